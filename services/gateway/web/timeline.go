package web

import (
	"maps"

	"github.com/fundbridge/fundbridge/projections/timeline"
)

// Summary writes a timeline entry in the reader's language: the view
// gives each English summary a code and the values it names
// (timeline.Param); a code the catalog knows ("timeline.<code>") is
// written from them, any other entry keeps its English summary, as do
// the English pages, so they read as the API does.
func (p *page) Summary(e timeline.EntryView) string {
	key := "timeline." + e.SummaryCode
	if _, known := timelineMessages[key]; p.Code == "en" || !known {
		return e.Summary
	}
	args := make([]any, len(e.SummaryParams))
	for i, prm := range e.SummaryParams {
		args[i] = p.paramValue(prm.Kind, prm.Values)
	}
	return p.T(key, args...)
}

// The timeline's sentences join the catalog: they are many, and kept
// apart so that messages.go stays readable.
func init() { maps.Copy(messages, timelineMessages) }

// timelineMessages are the timeline's sentences by the view's summary
// codes (timeline.Codes); the English is the view's own
// (timeline.EnglishFormat), each %s a param in its order.
var timelineMessages = map[string][2]string{
	"timeline.company.registered":      {"Registered %s (%s/%s, %s) at the %s stage", "注册企业 %s（%s/%s，%s），处于%s"},
	"timeline.company.profile_updated": {"Updated the company profile of %s", "更新了企业资料：%s"},
	"timeline.company.stage_changed":   {"Moved from the %s stage to %s", "从%s进入%s"},
	"timeline.company.patent_added":    {"Added %s patent %s: %s", "登记%s专利 %s：%s"},

	"timeline.application.drafted":               {"Drafted an application for %s: %s", "起草融资申请 %s：%s"},
	"timeline.application.updated":               {"Updated the draft to %s: %s", "将申请草稿改为 %s：%s"},
	"timeline.application.submitted":             {"Applied for %s: %s", "申请融资 %s：%s"},
	"timeline.application.matched":               {"Matched to %s fund(s): %s", "匹配到 %s 家基金：%s"},
	"timeline.application.under_review":          {"Under review by %s", "%s 正在评估该申请"},
	"timeline.application.funded":                {"Funded %s by %s (%s)", "获得融资 %s，出资方 %s（%s）"},
	"timeline.application.withdrawn":             {"Withdrew the application", "撤回了申请"},
	"timeline.application.withdrawn_with_reason": {"Withdrew the application: %s", "撤回了申请：%s"},
	"timeline.application.rejected":              {"Application rejected", "申请被拒绝"},
	"timeline.application.rejected_with_reason":  {"Application rejected: %s", "申请被拒绝：%s"},
	"timeline.application.expired":               {"Application expired without review", "申请未经评估即已过期"},

	"timeline.deal.sourced":                         {"%s opened a deal (match score %s)", "%s 将企业加入项目管道（匹配分 %s）"},
	"timeline.deal.advanced":                        {"%s moved the deal to %s", "%s 将项目推进到“%s”"},
	"timeline.deal.passed":                          {"%s passed at %s: %s", "%s 在“%s”阶段放弃：%s"},
	"timeline.deal.term_sheet_issued":               {"%s issued a term sheet: %s at %s pre-money for %s", "%s 发出投资条款书：投资 %s，投前估值 %s，占股 %s"},
	"timeline.deal.term_sheet_accepted":             {"Accepted the term sheet of %s", "接受了 %s 的投资条款书"},
	"timeline.deal.term_sheet_declined":             {"Declined the term sheet of %s", "拒绝了 %s 的投资条款书"},
	"timeline.deal.term_sheet_declined_with_reason": {"Declined the term sheet of %s: %s", "拒绝了 %s 的投资条款书：%s"},
	"timeline.deal.closed":                          {"%s closed the deal: %s for %s", "%s 完成交割：投资 %s，占股 %s"},

	"timeline.loan_deal.proposed":                   {"Loan-plus-equity deal proposed: a %s loan over %s months at %s, %s, with %s of equity", "发起投贷联动项目：贷款 %s，期限 %s 个月，年利率 %s，%s，外部直投 %s"},
	"timeline.loan_deal.book_closed":                {"The loan's book closed with %s committed", "银团簿记结束，承诺贷款 %s"},
	"timeline.loan_deal.book_closed_oversubscribed": {"The loan's book closed with %s committed (oversubscribed: scaled back pro rata to the loan)", "银团簿记结束，承诺贷款 %s（超额认购，已按比例缩减至贷款金额）"},
	"timeline.loan_deal.equity_committed":           {"%s committed %s of equity", "%s 承诺直投 %s"},
	"timeline.loan_deal.closed":                     {"The loan-plus-equity deal closed: both tranches are in and the loan is open", "投贷联动项目已完成：贷款与直投均已到位，贷款已开立"},
	"timeline.loan_deal.expired":                    {"The loan-plus-equity deal expired before it closed; every commitment was released", "投贷联动项目未能完成即已过期，所有承诺均已释放"},

	"timeline.loan.drawn_down":              {"%s of the loan disbursed (%s drawn in all)", "贷款放款 %s（累计已放款 %s）"},
	"timeline.loan.schedule_fixed":          {"Repayment schedule fixed: %s over %s monthly periods", "还款计划已确定：%s，分 %s 期按月偿还"},
	"timeline.loan.repaid":                  {"Repaid %s (%s principal outstanding)", "还款 %s（剩余本金 %s）"},
	"timeline.loan.fee_charged":             {"Charged a fee of %s", "收取费用 %s"},
	"timeline.loan.fee_charged_with_reason": {"Charged a fee of %s: %s", "收取费用 %s：%s"},
	"timeline.loan.period_overdue":          {"Period %s overdue, %s days past due: %s unpaid", "第 %s 期逾期 %s 天：未还 %s"},
	"timeline.loan.repaid_early":            {"Repaid %s early (%s principal outstanding; the schedule was recomputed)", "提前还款 %s（剩余本金 %s，还款计划已重新计算）"},
	"timeline.loan.repaid_in_full":          {"The loan is repaid in full", "贷款已全部还清"},
	"timeline.loan.defaulted":               {"The loan was declared in default with a loss of %s", "贷款被认定违约，损失 %s"},
	"timeline.loan.defaulted_with_reason":   {"The loan was declared in default with a loss of %s: %s", "贷款被认定违约，损失 %s：%s"},
	"timeline.loan.warrant_exercised":       {"The warrant was exercised: %s of equity for %s", "认股权已行权：投资 %s，占股 %s"},
	"timeline.loan.arrears_cleared":         {"Arrears cleared: every overdue period through %s is paid", "逾期已结清：第 %s 期及之前的逾期款项均已还清"},
	"timeline.loan.loss_allocated":          {"The loss of %s was allocated: banks %s, fund %s, risk-compensation fund %s, insurer %s", "损失 %s 已分担：银行 %s，基金 %s，风险补偿资金池 %s，保险机构 %s"},

	"timeline.insurance.requested":             {"Asked for %s cover for %s patent(s) from %s insurer(s), %s to %s: %s insured", "申请%s：%s 项专利，向 %s 家保险机构询价，保险期间 %s 至 %s，保险金额 %s"},
	"timeline.insurance.quoted":                {"Quoted a premium of %s by %s (valid until %s)", "保费报价 %s，来自 %s（有效期至 %s）"},
	"timeline.insurance.declined":              {"%s declined to quote", "%s 拒绝报价"},
	"timeline.insurance.declined_with_reason":  {"%s declined to quote: %s", "%s 拒绝报价：%s"},
	"timeline.insurance.quote_expired":         {"The quote of %s expired", "%s 的报价已过期"},
	"timeline.insurance.quote_accepted":        {"Accepted the quote of %s", "接受了 %s 的报价"},
	"timeline.insurance.withdrawn":             {"Withdrew the insurance request", "撤回了投保询价"},
	"timeline.insurance.withdrawn_with_reason": {"Withdrew the insurance request: %s", "撤回了投保询价：%s"},

	"timeline.policy.bound":                 {"Policy %s, %s cover from %s to %s by %s bound, premium %s", "保单 %s 已承保：%s，保险期间 %s 至 %s，保险机构 %s，保费 %s"},
	"timeline.policy.subsidy_applied":       {"A premium subsidy of %s from %s", "获得保费补贴 %s，来自 %s"},
	"timeline.policy.premium_paid":          {"Paid the premium: %s; the policy is in force", "已缴保费 %s，保单生效"},
	"timeline.policy.expired":               {"The policy expired", "保单已到期"},
	"timeline.policy.cancelled":             {"The policy was cancelled, %s refunded", "保单已退保，退还 %s"},
	"timeline.policy.cancelled_with_reason": {"The policy was cancelled, %s refunded: %s", "保单已退保，退还 %s：%s"},
	"timeline.claim.filed":                  {"Claim %s filed for %s", "提出理赔 %s，索赔 %s"},
	"timeline.claim.assessed":               {"Claim %s assessed at %s", "理赔 %s 核定为 %s"},
	"timeline.claim.settled":                {"Claim %s settled: %s paid", "理赔 %s 已结案：赔付 %s"},
	"timeline.claim.denied":                 {"Claim %s denied", "理赔 %s 被拒赔"},
	"timeline.claim.denied_with_reason":     {"Claim %s denied: %s", "理赔 %s 被拒赔：%s"},
}
