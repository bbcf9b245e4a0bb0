package insurance

import (
	"testing"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/eventtest"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	api "github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
)

// nameless names nothing: views built outside the service's view.
type nameless struct{}

func (nameless) companyName(string) string { return "" }

// stream is events of one stream, given to a view.
type stream = eventtest.Stream

// namedView is the view folded from the streams, through the registry
// as the service folds the log.
func namedView(t *testing.T, streams ...stream) *view {
	t.Helper()
	reg := events.NewRegistry()
	api.Register(reg)
	applicationsapi.Register(reg)
	v := newView(reg)
	eventtest.Fold(t, now, v.apply, streams...)
	return v
}

// Given a company registered and since renamed, its request quoted and
// its policy bound, when the insurers and the company read them, then
// those who see them read the company's current name beside its ID, and
// an insurer not asked still sees nothing.
func TestRequestsAndPoliciesNameTheCompany(t *testing.T) {
	const name = "深圳星河机器人有限公司"
	v := namedView(t,
		stream{ID: "company-co-1", Payloads: []events.Payload{
			applicationsapi.CompanyRegistered{CompanyID: "co-1", CompanyProfile: applicationsapi.CompanyProfile{Name: "Xinghe Robotics"}},
			applicationsapi.CompanyStageChanged{CompanyID: "co-1"},
			applicationsapi.CompanyProfileUpdated{CompanyID: "co-1", CompanyProfile: applicationsapi.CompanyProfile{Name: name}}}},
		stream{ID: requestType + "-r1", Payloads: []events.Payload{requested, quoted, accepted}},
		stream{ID: policyType + "-" + policyID, Payloads: []events.Payload{bound}},
	)
	for _, a := range []fundbridge.Actor{insurerA, insurerB, founder, operator} {
		reqs, err := v.listRequests(a, api.ListRequests{})
		if err != nil || len(reqs.Items) != 1 || reqs.Items[0].CompanyID != "co-1" || reqs.Items[0].CompanyName != name {
			t.Errorf("%s reads requests %+v, %v", a.OrgID, reqs.Items, err)
		}
	}
	for _, a := range []fundbridge.Actor{insurerA, founder} {
		pols, err := v.listPolicies(a, api.ListPolicies{})
		if err != nil || len(pols.Items) != 1 || pols.Items[0].CompanyName != name {
			t.Errorf("%s reads policies %+v, %v", a.OrgID, pols.Items, err)
		}
	}
	for _, a := range []fundbridge.Actor{insurerC, rival, banker} {
		if reqs, _ := v.listRequests(a, api.ListRequests{}); len(reqs.Items) != 0 {
			t.Errorf("%s, not asked, reads %+v", a.OrgID, reqs.Items)
		}
		if pols, _ := v.listPolicies(a, api.ListPolicies{}); len(pols.Items) != 0 {
			t.Errorf("%s reads policies %+v", a.OrgID, pols.Items)
		}
	}
	if pols, _ := v.listPolicies(insurerB, api.ListPolicies{}); len(pols.Items) != 0 {
		t.Errorf("the insurer whose quote lost reads the policy: %+v", pols.Items)
	}
}
