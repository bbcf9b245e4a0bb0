package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/money"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
)

// draftBody is the body of the HTTP benchmark's writes (internal/httpbench).
const draftBody = `{"amount_requested":"5000000.00","instruments":["equity","venture_loan"],"use_of_funds":"GPUs and hiring","credit_data_consent":true}`

func draftRoute() Route {
	e := applicationsapi.DraftApplicationEndpoint
	return Route{Route: *e.HTTP, Endpoint: e.Info()}
}

// BenchmarkCommandPayload is the gateway's reading of a draft's body into
// the service's payload (go test -bench CommandPayload -benchmem).
func BenchmarkCommandPayload(b *testing.B) {
	g, rt := &Gateway{}, draftRoute()
	base := httptest.NewRequest(http.MethodPost, "/api/v1/applications", nil)
	base.Header.Set("Content-Type", "application/json")
	body := bytes.NewReader(nil)
	b.ReportAllocs()
	for b.Loop() {
		r := *base
		body.Reset([]byte(draftBody))
		r.Body = io.NopCloser(body)
		if _, err := g.payload(rt, &r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQueryPayload is the same for a read of one company: its ID
// from the path.
func BenchmarkQueryPayload(b *testing.B) {
	g := &Gateway{}
	e := applicationsapi.GetCompanyEndpoint
	rt := Route{Route: *e.HTTP, Endpoint: e.Info()}
	rctx := chi.NewRouteContext()
	rctx.URLParams.Add("company_id", "01JD0000000000000000000000")
	r := httptest.NewRequest(http.MethodGet, "/api/v1/companies/01JD0000000000000000000000", nil)
	r = r.WithContext(context.WithValue(r.Context(), chi.RouteCtxKey, rctx))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.payload(rt, r); err != nil {
			b.Fatal(err)
		}
	}
}

// draftReply is what the applications service answers a draft with.
func draftReply(b *testing.B) []byte {
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	v := applicationsapi.ApplicationView{ID: "01JD0000000000000000000001", CompanyName: "Deep Vision Ltd", Status: "draft",
		FundIDs: []string{}, ReviewedBy: []string{}, Deals: []applicationsapi.FundedDeal{}, StatusHistory: []applicationsapi.StatusChange{},
		CreatedAt: now, UpdatedAt: now, Version: 1}
	v.AmountRequested = money.MustParse("5000000.00")
	v.Instruments = []fundbridge.Instrument{fundbridge.InstrumentEquity, fundbridge.InstrumentVentureLoan}
	v.UseOfFunds = "GPUs and hiring"
	data, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkWithPosition is adding the log position to a command's reply.
func BenchmarkWithPosition(b *testing.B) {
	body := draftReply(b)
	b.ReportAllocs()
	for b.Loop() {
		withPosition(body, 123456)
	}
}

func jsonRequest(t testing.TB, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/api/v1/applications", bytes.NewReader([]byte(body)))
	r.Header.Set("Content-Type", "application/json")
	return r
}
