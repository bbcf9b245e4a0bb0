package insuranceapi

import (
	"net/http"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/services/svc"
)

// Name is the service's name on the bus.
const Name = "insurance"

// Operations of the service.
const (
	OpOnboardInsurer     = "insurer.onboard"
	OpGetInsurer         = "insurer.get"
	OpListInsurers       = "insurer.list"
	OpPublishRatingTable = "insurer.publish_rating_table"
	OpGetRatingTable     = "insurer.rating_table"
	OpRequest            = "request.create"
	OpGetRequest         = "request.get"
	OpListRequests       = "request.list"
	OpQuote              = "request.quote"
	OpDecline            = "request.decline"
	OpAccept             = "request.accept_quote"
	OpWithdraw           = "request.withdraw"
	OpExpireQuote        = "request.expire_quote"
	OpGetPolicy          = "policy.get"
	OpListPolicies       = "policy.list"
	OpBind               = "policy.bind"
	OpPayPremium         = "policy.pay_premium"
	OpFileClaim          = "policy.file_claim"
	OpGuaranteeClaim     = "policy.file_guarantee_claim"
	OpAssessClaim        = "policy.assess_claim"
	OpSettleClaim        = "policy.settle_claim"
	OpDenyClaim          = "policy.deny_claim"
	OpCancel             = "policy.cancel"
	OpExpirePolicy       = "policy.expire"
	OpCreateProgramme    = "subsidy.create"
	OpCloseProgramme     = "subsidy.close"
	OpReturnSubsidy      = "subsidy.return"
	OpGetProgramme       = "subsidy.get"
	OpListProgrammes     = "subsidy.list"
)

const (
	v1        = svc.APIPrefix
	tag       = "insurance"
	tagPolicy = "policies"
)

func roles(r ...fundbridge.Role) []fundbridge.Role { return r }

var (
	operators = roles(fundbridge.RoleOperator, fundbridge.RoleSystem)
	insurers  = roles(fundbridge.RoleInsurer, fundbridge.RoleOperator, fundbridge.RoleSystem)
	startups  = roles(fundbridge.RoleStartup, fundbridge.RoleOperator, fundbridge.RoleSystem)
	parties   = roles(fundbridge.RoleStartup, fundbridge.RoleInsurer, fundbridge.RoleOperator, fundbridge.RoleSystem)
)

func route(method, path, t, summary string) *svc.Route {
	return &svc.Route{Method: method, Path: v1 + path, Tag: t, Summary: summary}
}

func created(path, t, summary string) *svc.Route {
	return &svc.Route{Method: http.MethodPost, Path: v1 + path, Tag: t, Summary: summary, Created: true}
}

// The service's endpoints. Roles are the first check; which request,
// policy or claim the caller may act on is the service's: an insurer
// sees the requests sent to it and its own policies, a startup its own,
// an operator all, and to anyone else they do not exist (404).
var (
	OnboardInsurerEndpoint = svc.NewCommand[OnboardInsurer, InsurerView](Name, OpOnboardInsurer, operators,
		created("/insurers", tag, "Onboard an insurer (an org with role insurer) so that it can publish a rating table and quote")).Doing("onboard insurers")
	GetInsurerEndpoint = svc.NewQuery[InsurerRef, InsurerView](Name, OpGetInsurer, nil,
		route(http.MethodGet, "/insurers/{insurer_id}", tag, "An onboarded insurer (any signed-in user)"))
	ListInsurersEndpoint = svc.NewQuery[ListInsurers, InsurerList](Name, OpListInsurers, nil,
		route(http.MethodGet, "/insurers", tag, "The onboarded insurers, with whether each publishes a rating table (any signed-in user)"))
	PublishRatingTableEndpoint = svc.NewCommand[PublishRatingTable, RatingTableView](Name, OpPublishRatingTable, insurers,
		route(http.MethodPut, "/insurers/{insurer_id}/rating-table", tag, "Publish or replace the insurer's rating table (the insurer itself or an operator); quotes from now on are held to it")).Doing("publish rating tables")
	GetRatingTableEndpoint = svc.NewQuery[InsurerRef, RatingTableView](Name, OpGetRatingTable, nil,
		route(http.MethodGet, "/insurers/{insurer_id}/rating-table", tag, "An insurer's published rating table (any signed-in user): premium = rate × sum insured × months/12 × portfolio factor, never below the minimum, half-up to the fen; a quote stays within ±20% of it"))

	RequestInsuranceEndpoint = svc.NewCommand[RequestInsurance, RequestView](Name, OpRequest, startups,
		created("/insurance-requests", tag, "Ask insurers to quote cover on the company's own patents: valid, at least 3 years from expiry, not in dispute; a licensed patent only with its owner's consent recorded")).Doing("request insurance")
	GetRequestEndpoint = svc.NewQuery[RequestRef, RequestView](Name, OpGetRequest, parties,
		route(http.MethodGet, "/insurance-requests/{request_id}", tag, "A request with its quotes (the company, the insurers asked, operators)"))
	ListRequestsEndpoint = svc.NewQuery[ListRequests, RequestList](Name, OpListRequests, parties,
		route(http.MethodGet, "/insurance-requests", tag, "The requests the caller may see, newest first"))
	QuoteEndpoint = svc.NewCommand[QuoteInsurance, RequestView](Name, OpQuote, insurers,
		created("/insurance-requests/{request_id}/quotes", tag, "Quote a premium within ±20% of the insurer's own table (an insurer asked); valid for 30 days").
			Locating(v1+"/insurance-requests/{request_id}")).Doing("quote insurance")
	DeclineEndpoint = svc.NewCommand[DeclineInsurance, RequestView](Name, OpDecline, insurers,
		route(http.MethodPost, "/insurance-requests/{request_id}/declines", tag, "Decline to quote, with a reason (an insurer asked)")).Doing("decline insurance")
	AcceptQuoteEndpoint = svc.NewCommand[AcceptQuote, PolicyView](Name, OpAccept, startups,
		created("/insurance-requests/{request_id}/quotes/{quote_id}/accept", tagPolicy, "Accept a valid quote (the company): the policy is bound, and a subsidy programme it is eligible for pays its share while its budget lasts").
			Locating(v1+"/policies/{policy_id}")).Doing("accept quotes")
	WithdrawRequestEndpoint = svc.NewCommand[WithdrawRequest, RequestView](Name, OpWithdraw, startups,
		route(http.MethodPost, "/insurance-requests/{request_id}/withdraw", tag, "Withdraw a request (the company)")).Doing("withdraw insurance requests")
	ExpireQuoteEndpoint = svc.NewCommand[ExpireQuote, RequestView](Name, OpExpireQuote, operators, nil).Doing("expire quotes")

	GetPolicyEndpoint = svc.NewQuery[PolicyRef, PolicyView](Name, OpGetPolicy, parties,
		route(http.MethodGet, "/policies/{policy_id}", tagPolicy, "A policy with its claims (the company, the insurer, operators)"))
	ListPoliciesEndpoint = svc.NewQuery[ListPolicies, PolicyList](Name, OpListPolicies, parties,
		route(http.MethodGet, "/policies", tagPolicy, "The policies the caller may see, newest first"))
	BindPolicyEndpoint = svc.NewCommand[BindPolicy, PolicyView](Name, OpBind, operators, nil).Doing("bind policies")
	PayPremiumEndpoint = svc.NewCommand[PayPremium, PolicyView](Name, OpPayPremium, startups,
		route(http.MethodPost, "/policies/{policy_id}/premium", tagPolicy, "Pay the premium due, after any subsidy (the company); cover begins")).Doing("pay premiums")
	FileClaimEndpoint = svc.NewCommand[FileClaim, PolicyView](Name, OpFileClaim, startups,
		created("/policies/{policy_id}/claims", tagPolicy, "File a claim for an incident inside the period of cover (the company)").
			Locating(v1+"/policies/{policy_id}")).Doing("file claims")
	GuaranteeClaimEndpoint = svc.NewCommand[FileGuaranteeClaim, PolicyView](Name, OpGuaranteeClaim, operators, nil).Doing("file guarantee claims")
	AssessClaimEndpoint    = svc.NewCommand[AssessClaim, PolicyView](Name, OpAssessClaim, insurers,
		route(http.MethodPost, "/policies/{policy_id}/claims/{claim_id}/assessment", tagPolicy, "Fix what the policy owes on a claim, at most the amount claimed (the insurer)")).Doing("assess claims")
	SettleClaimEndpoint = svc.NewCommand[SettleClaim, PolicyView](Name, OpSettleClaim, insurers,
		route(http.MethodPost, "/policies/{policy_id}/claims/{claim_id}/settlements", tagPolicy, "Pay towards an assessed claim, partly or in full, within the remaining aggregate limit (the insurer)")).Doing("settle claims")
	DenyClaimEndpoint = svc.NewCommand[DenyClaim, PolicyView](Name, OpDenyClaim, insurers,
		route(http.MethodPost, "/policies/{policy_id}/claims/{claim_id}/denial", tagPolicy, "Deny a claim on which nothing was paid, with the reason (the insurer)")).Doing("deny claims")
	CancelPolicyEndpoint = svc.NewCommand[CancelPolicy, PolicyView](Name, OpCancel, startups,
		route(http.MethodPost, "/policies/{policy_id}/cancel", tagPolicy, "Cancel cover from a day (the company or an operator): a paid premium is refunded pro rata by days, half-up to the fen, split between the company and the subsidy programme")).Doing("cancel policies")
	ExpirePolicyEndpoint = svc.NewCommand[ExpirePolicy, PolicyView](Name, OpExpirePolicy, operators, nil).Doing("expire policies")

	CreateProgrammeEndpoint = svc.NewCommand[CreateSubsidyProgramme, ProgrammeView](Name, OpCreateProgramme, operators,
		created("/subsidy-programmes", tag, "Open a premium subsidy programme (operators): share of premium, cap per company per year, budget, eligible coverage types and cities")).Doing("create subsidy programmes")
	CloseProgrammeEndpoint = svc.NewCommand[CloseSubsidyProgramme, ProgrammeView](Name, OpCloseProgramme, operators,
		route(http.MethodPost, "/subsidy-programmes/{programme_id}/close", tag, "Stop a programme's draws (operators)")).Doing("close subsidy programmes")
	ReturnSubsidyEndpoint = svc.NewCommand[ReturnSubsidy, ProgrammeView](Name, OpReturnSubsidy, operators, nil).Doing("return subsidies")
	GetProgrammeEndpoint  = svc.NewQuery[ProgrammeRef, ProgrammeView](Name, OpGetProgramme, nil,
		route(http.MethodGet, "/subsidy-programmes/{programme_id}", tag, "A subsidy programme with its budget drawn and left (any signed-in user; its draws by policy to operators only)"))
	ListProgrammesEndpoint = svc.NewQuery[ListProgrammes, ProgrammeList](Name, OpListProgrammes, nil,
		route(http.MethodGet, "/subsidy-programmes", tag, "The subsidy programmes (any signed-in user)"))
)

// Endpoints lists every endpoint of the service.
func Endpoints() []svc.Described {
	return []svc.Described{
		OnboardInsurerEndpoint, GetInsurerEndpoint, ListInsurersEndpoint, PublishRatingTableEndpoint, GetRatingTableEndpoint,
		RequestInsuranceEndpoint, GetRequestEndpoint, ListRequestsEndpoint, QuoteEndpoint, DeclineEndpoint, AcceptQuoteEndpoint,
		WithdrawRequestEndpoint, ExpireQuoteEndpoint,
		GetPolicyEndpoint, ListPoliciesEndpoint, BindPolicyEndpoint, PayPremiumEndpoint, FileClaimEndpoint, GuaranteeClaimEndpoint,
		AssessClaimEndpoint, SettleClaimEndpoint, DenyClaimEndpoint, CancelPolicyEndpoint, ExpirePolicyEndpoint,
		CreateProgrammeEndpoint, CloseProgrammeEndpoint, ReturnSubsidyEndpoint, GetProgrammeEndpoint, ListProgrammesEndpoint,
		RecordStandingEndpoint, GetStandingEndpoint,
	}
}
