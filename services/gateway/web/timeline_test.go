package web

import (
	"strings"
	"testing"

	"github.com/fundbridge/fundbridge/projections/timeline"
)

// Every sentence the timeline says has Chinese in the catalog, beside the
// view's own English, so no entry of a Chinese page falls back to English.
func TestEveryTimelineCodeIsInTheCatalog(t *testing.T) {
	codes := timeline.Codes()
	if len(codes) == 0 {
		t.Fatal("the timeline says no codes")
	}
	for _, code := range codes {
		m, ok := messages["timeline."+code]
		if !ok {
			t.Errorf("timeline code %s is not in the catalog", code)
			continue
		}
		if m[0] != timeline.EnglishFormat(code) {
			t.Errorf("timeline.%s: the catalog's English %q is not the view's %q", code, m[0], timeline.EnglishFormat(code))
		}
		if strings.Count(m[1], "%s") != strings.Count(m[0], "%s") {
			t.Errorf("timeline.%s: the Chinese names %d values, the English %d", code, strings.Count(m[1], "%s"), strings.Count(m[0], "%s"))
		}
	}
	for key := range timelineMessages {
		if !strings.HasPrefix(key, "timeline.") || timeline.EnglishFormat(strings.TrimPrefix(key, "timeline.")) == "" {
			t.Errorf("%s names no timeline code", key)
		}
	}
}

// A timeline entry is written from its code in Chinese (enum values,
// amounts, percents and dates the Chinese way, names and reasons as
// written), keeps the view's summary in English, and an entry whose code
// the catalog does not know keeps its summary.
func TestTimelineInTheReadersLanguage(t *testing.T) {
	in := newI18n()
	zh, en := &page{locale: in.locale("zh-CN")}, &page{locale: in.locale("en")}
	p := func(kind string, vs ...string) timeline.Param { return timeline.Param{Kind: kind, Values: vs} }
	for _, c := range []struct {
		e  timeline.EntryView
		zh string
	}{
		{timeline.EntryView{Summary: "Applied for ¥2m: equity, venture_loan", SummaryCode: "application.submitted",
			SummaryParams: []timeline.Param{p("amount", "2000000.00"), p("instrument", "equity", "venture_loan")}},
			"申请融资 ¥2,000,000.00：股权融资、创业贷款"},
		{timeline.EntryView{Summary: "Registered 智元视觉 (technology/computer_vision, beijing) at the startup stage", SummaryCode: "company.registered",
			SummaryParams: []timeline.Param{p("text", "智元视觉"), p("layer", "technology"), p("sector", "computer_vision"), p("city", "beijing"), p("stage", "startup")}},
			"注册企业 智元视觉（技术层/计算机视觉，北京），处于初创期"},
		{timeline.EntryView{Summary: "Sky Fund issued a term sheet: ¥4m at ¥16m pre-money for 20.00%", SummaryCode: "deal.term_sheet_issued",
			SummaryParams: []timeline.Param{p("text", "Sky Fund"), p("amount", "4000000.00"), p("amount", "16000000.00"), p("percent", "0.2")}},
			"Sky Fund 发出投资条款书：投资 ¥4,000,000.00，投前估值 ¥16,000,000.00，占股 20.00%"},
		{timeline.EntryView{Summary: "Claim cl1 denied: 不在保险责任范围内", SummaryCode: "claim.denied_with_reason",
			SummaryParams: []timeline.Param{p("text", "cl1"), p("text", "不在保险责任范围内")}},
			"理赔 cl1 被拒赔：不在保险责任范围内"},
		{timeline.EntryView{Summary: "Asked for enforcement cover for 2 patent(s) from 1 insurer(s), 2026-12-01 to 2027-11-30: ¥1m insured",
			SummaryCode: "insurance.requested", SummaryParams: []timeline.Param{p("coverage", "enforcement"), p("count", "2"), p("count", "1"),
				p("date", "2026-12-01"), p("date", "2027-11-30"), p("amount", "1000000.00")}},
			"申请专利执行保险：2 项专利，向 1 家保险机构询价，保险期间 2026年12月1日 至 2027年11月30日，保险金额 ¥1,000,000.00"},
		{timeline.EntryView{Summary: "Something a newer view says", SummaryCode: "a.code_from_a_newer_view"}, "Something a newer view says"},
		{timeline.EntryView{Summary: "An entry from before codes"}, "An entry from before codes"},
	} {
		if got := zh.Summary(c.e); got != c.zh {
			t.Errorf("zh %s = %q, want %q", c.e.SummaryCode, got, c.zh)
		}
		if got := en.Summary(c.e); got != c.e.Summary {
			t.Errorf("en %s = %q, want the summary %q", c.e.SummaryCode, got, c.e.Summary)
		}
	}
}
