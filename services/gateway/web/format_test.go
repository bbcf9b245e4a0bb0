package web

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
)

func TestAmountsAndDatesAsEachLanguageWritesThem(t *testing.T) {
	in := newI18n()
	zh, en := in.locale("zh-CN"), in.locale("en-US,en;q=0.9")
	for _, c := range []struct {
		v      any
		zh, en string
	}{
		{money.MustParse("1250000.00"), "¥1,250,000.00", "CN¥1,250,000.00"},
		{money.MustParse("0.5"), "¥0.50", "CN¥0.50"},
		{money.MustParse("999.99"), "¥999.99", "CN¥999.99"},
		{"1000", "¥1,000.00", "CN¥1,000.00"},
		{decimal.RequireFromString("-12345.675"), "-¥12,345.68", "-CN¥12,345.68"},
		{(*money.Amount)(nil), "—", "—"},
	} {
		if got := zh.Money(c.v); got != c.zh {
			t.Errorf("zh Money(%v) = %q, want %q", c.v, got, c.zh)
		}
		if got := en.Money(c.v); got != c.en {
			t.Errorf("en Money(%v) = %q, want %q", c.v, got, c.en)
		}
	}
	day := time.Date(2026, 11, 30, 20, 0, 0, 0, time.UTC) // already Dec 1 in China
	if got := zh.Date(day); got != "2026年12月1日" {
		t.Errorf("zh date = %q", got)
	}
	if got := en.Date("2023-04-01"); got != "Apr 1, 2023" {
		t.Errorf("en date = %q", got)
	}
	if got := in.locale("").Code; got != "zh" {
		t.Errorf("no preference gives %q, want zh", got)
	}
	if got := in.locale("fr-FR").Code; got != "en" {
		t.Errorf("a French reader gets %q, want en (the nearer script)", got)
	}
	if got := zh.Enum("sector", "computer_vision"); got != "计算机视觉" {
		t.Errorf("zh sector = %q", got)
	}
	// A list of an enum's values is joined as each language joins one.
	both := []fundbridge.Instrument{fundbridge.InstrumentEquity, fundbridge.InstrumentLoanPlusEquity}
	if got := zh.Enums("instrument", both); got != "股权融资、贷款+外部直投" {
		t.Errorf("zh instruments = %q", got)
	}
	if got := en.Enums("instrument", []string{"equity", "loan_plus_equity"}); got != "Equity, Loan plus direct investment" {
		t.Errorf("en instruments = %q", got)
	}
	if got := en.Reason("must be at most ¥10bn (10000000000.00)"); got != "Must be at most ¥10bn (10000000000.00)" {
		t.Errorf("a reason with a value = %q", got)
	}
}

// Every key has both languages, and none is left blank. The texts are
// printf formats: a literal percent sign is written "%%", else the page
// shows "4.35%!)(MISSING)".
func TestCatalogIsComplete(t *testing.T) {
	for key, m := range messages {
		if strings.TrimSpace(m[0]) == "" || strings.TrimSpace(m[1]) == "" {
			t.Errorf("%s lacks a language: %q", key, m)
		}
		for _, text := range m {
			for i := 0; i < len(text); i++ {
				if text[i] != '%' {
					continue
				}
				if i+1 == len(text) || !strings.ContainsRune("%sdvq", rune(text[i+1])) {
					t.Errorf("%s: a lone %% in %q (write %%%% for a percent sign)", key, text)
					break
				}
				i++
			}
		}
	}
}

func TestChartBarsAndCSV(t *testing.T) {
	l := newI18n().locale("en")
	c := &chart{ID: "x", Series: []string{"requested", "funded"}, Money: true, Categories: []category{
		{Label: "Beijing", Values: []decimal.Decimal{decimal.NewFromInt(400), decimal.NewFromInt(100)}},
		{Label: "Shanghai", Values: []decimal.Decimal{decimal.NewFromInt(200), decimal.RequireFromString("0.01")}},
	}}
	c.layout(l)
	if len(c.Bars) != 4 || c.Bars[0].W != chartPlotWidth || c.Bars[1].W != chartPlotWidth/4 || c.Bars[2].W != chartPlotWidth/2 || c.Bars[3].W != 1 {
		t.Errorf("bars = %+v", c.Bars)
	}
	if c.Bars[0].Value != "CN¥400.00" {
		t.Errorf("bar value = %q", c.Bars[0].Value)
	}
	w := httptest.NewRecorder()
	c.writeCSV(w)
	if got, want := w.Body.String(), ",requested,funded\nBeijing,400.00,100.00\nShanghai,200.00,0.01\n"; got != want {
		t.Errorf("csv = %q, want %q", got, want)
	}
}

// Match reasons are written from their codes in Chinese (enum values,
// amounts and percents the Chinese way), stay as the engine wrote them in
// English, and a code the catalog does not know keeps the engine's text.
func TestReasonsInTheReadersLanguage(t *testing.T) {
	in := newI18n()
	texts := []string{"stage growth is in mandate", "ticket ¥30m is within fund range ¥10m–¥50m",
		"ownership 16.67% at the valuation ask is within fund maximum 20.00%", "wants equity, loan_plus_equity", "something new"}
	codes := []matchingapi.Reason{
		{Code: "stage_in_mandate", Params: []matchingapi.ReasonParam{{Kind: "stage", Values: []string{"growth"}}}},
		{Code: "ticket_within_range", Params: []matchingapi.ReasonParam{{Kind: "amount", Values: []string{"30000000"}},
			{Kind: "amount_range", Values: []string{"10000000", "50000000"}}}},
		{Code: "ownership_within_maximum", Params: []matchingapi.ReasonParam{{Kind: "percent", Values: []string{"0.16666"}}, {Kind: "percent", Values: []string{"0.2"}}}},
		{Code: "wants_instruments", Params: []matchingapi.ReasonParam{{Kind: "instrument", Values: []string{"equity", "loan_plus_equity"}}}},
		{Code: "a_code_from_a_newer_engine"},
	}
	zh := (&page{locale: in.locale("zh-CN")}).Why(texts, codes)
	want := []string{"阶段“成长期”在投资授权内", "金额 ¥30,000,000.00 在基金区间 ¥10,000,000.00–¥50,000,000.00 内",
		"按估值要求持股 16.67%，在基金上限 20.00% 以内", "申请股权融资、贷款+外部直投", "something new"}
	for i := range want {
		if zh[i] != want[i] {
			t.Errorf("zh reason %d = %q, want %q", i, zh[i], want[i])
		}
	}
	if en := (&page{locale: in.locale("en")}).Why(texts, codes); !slices.Equal(en, texts) {
		t.Errorf("en reasons = %q", en)
	}
}

func TestAProblemsDetailReadsAsASentence(t *testing.T) {
	for in, want := range map[string]string{
		"email or password is wrong": "Email or password is wrong.",
		"deal d1 has closed.":        "Deal d1 has closed.",
		"ifpndh53vy4sk is not yours": "ifpndh53vy4sk is not yours",
		"该项目已关闭":                     "该项目已关闭",
		"Already a sentence":         "Already a sentence",
	} {
		if got := sentence(in); got != want {
			t.Errorf("sentence(%q) = %q, want %q", in, got, want)
		}
	}
}

// The contracts' refusals of control characters read in the page's
// language, beside the field.
func TestControlCharacterReasonsInTheReadersLanguage(t *testing.T) {
	zh := newI18n().locale("zh-CN")
	for reason, want := range map[string]string{
		"contains control characters":                                            "只能是一行，不能包含控制字符。",
		"contains control characters: a name is one line":                        "名称只能是一行，不能包含控制字符。",
		"contains control characters (only line breaks and tabs may be in text)": "文本中除换行和制表符外，不能包含控制字符。",
	} {
		if got := zh.Reason(reason); got != want {
			t.Errorf("zh reason for %q = %q, want %q", reason, got, want)
		}
	}
}

// An amount as a person types it: thousands separators are taken out,
// but only where thousands separators go. "1,00,000" or a decimal comma
// ("1250,50", read as ¥125,050) is refused, in the reader's language,
// rather than committed as a number the person did not mean.
func TestAnAmountAsAPersonTypesIt(t *testing.T) {
	for typed, want := range map[string]string{
		"1,250,000": "1250000", "1,250,000.50": "1250000.5", "¥ 1,250,000.00": "1250000", "1 250 000": "1250000",
		"1，250，000": "1250000", "250,000": "250000", "1250000": "1250000", " 12,345.6 ": "12345.6", "999": "999",
	} {
		a, err := parseAmount("amount", typed, true)
		if err != nil || a.String() != money.MustParse(want).String() {
			t.Errorf("%q read as %v, %v; want %s", typed, a, err, want)
		}
	}
	for _, typed := range []string{"1,00,000", "1250,50", "10,5", "1,2345", "12,,345", ",123", "123,", "1,234.5,6", "1234,567", "1 23"} {
		a, err := parseAmount("amount", typed, true)
		fs := fundbridge.ErrorFields(err)
		if err == nil || len(fs) != 1 || fs[0].Field != "amount" {
			t.Errorf("%q read as %v, want it refused naming the amount", typed, a)
			continue
		}
		if got := newI18n().locale("zh-CN").Reason(fs[0].Reason); !strings.Contains(got, "千位分隔") {
			t.Errorf("%q is refused in Chinese as %q", typed, got)
		}
	}
	if _, err := parseAmount("amount", "-1,000", true); !strings.Contains(fundbridge.ErrorMessage(err)+strings.Join(reasons(err), ""), "negative") {
		t.Errorf("-1,000 refused as %v, want it to say the amount may not be negative", err)
	}
}

func reasons(err error) []string {
	var out []string
	for _, f := range fundbridge.ErrorFields(err) {
		out = append(out, f.Reason)
	}
	return out
}

// The reasons an insurer's claim steps and a startup's premium payment
// are refused with read in the reader's language, the figure kept.
func TestClaimAndPremiumReasonsInTheReadersLanguage(t *testing.T) {
	zh, en := newI18n().locale("zh-CN"), newI18n().locale("en")
	for reason, want := range map[string]string{
		"must not exceed the amount claimed, 5000.00":                     "不能超过索赔金额 5000.00",
		"must not exceed what is left of the aggregate limit, 2394000.00": "不能超过剩余的累计赔偿限额 2394000.00",
		"must not exceed what is owed on the claim, 1700000.00":           "不能超过该索赔尚未赔付的金额 1700000.00",
		"must be the premium due, 12345.67":                               "须等于应缴保费 12345.67",
	} {
		if got := zh.Reason(reason); got != want {
			t.Errorf("zh Reason(%q) = %q, want %q", reason, got, want)
		}
		if got := en.Reason(reason); !strings.HasPrefix(got, "Must ") || !strings.HasSuffix(got, reason[strings.LastIndex(reason, " ")+1:]) {
			t.Errorf("en Reason(%q) = %q", reason, got)
		}
	}
}
