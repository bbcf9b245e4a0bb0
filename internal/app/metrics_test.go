package app_test

import (
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/fundbridge/fundbridge/internal/app"
	"github.com/fundbridge/fundbridge/services/gateway"
)

// metrics scrapes the gateway's /metrics as Prometheus would.
func (p *product) metrics() map[string]*dto.MetricFamily {
	p.t.Helper()
	anon, err := http.Get(p.base + "/metrics")
	if err != nil {
		p.t.Fatal(err)
	}
	anon.Body.Close()
	if anon.StatusCode != 401 {
		p.t.Fatalf("/metrics without a token: %d, want 401", anon.StatusCode)
	}
	req, _ := http.NewRequest("GET", p.base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+p.opToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		p.t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		p.t.Fatalf("/metrics is not Prometheus text: %v", err)
	}
	return fams
}

// value sums the samples of family name whose labels include want
// (counters, gauges, and histograms' counts), and says how many matched.
func value(fams map[string]*dto.MetricFamily, name string, want ...string) (sum float64, n int) {
	f := fams[name]
	if f == nil {
		return 0, 0
	}
next:
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(want); i += 2 {
			if labels[want[i]] != want[i+1] {
				continue next
			}
		}
		n++
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum, n
}

func TestMetricsMoveWithRealRequests(t *testing.T) {
	// The operator's own writes: onboarding (1), a refused one (2), then
	// the third is over the limit.
	p := startWith(t, func(o *app.Options) { o.Limits.Writes = gateway.Bucket{Burst: 2, Every: time.Hour} })
	before := p.metrics()

	r := p.do("POST", "/api/v1/orgs", p.opToken, map[string]any{"name": "Metrics Labs", "role": "fund_manager",
		"user": map[string]string{"email": "m@metrics.test", "password": "quiet harbour fund_manager", "name": "M"}})
	if r.status != 201 {
		t.Fatalf("create org: %d %s", r.status, r.raw)
	}
	wantProblem(t, p.do("POST", "/api/v1/orgs", p.opToken, map[string]any{"name": "", "role": "fund_manager",
		"user": map[string]string{"email": "n@metrics.test", "password": "quiet harbour fund_manager", "name": "N"}}), 400, "name")
	wantProblem(t, p.do("POST", "/api/v1/orgs", p.opToken, map[string]any{"name": "Third", "role": "startup"}), 429)
	after := p.metrics()

	moved := func(what, name string, by float64, labels ...string) {
		t.Helper()
		b, _ := value(before, name, labels...)
		a, n := value(after, name, labels...)
		if n == 0 {
			t.Errorf("%s: no series %s%v in /metrics", what, name, labels)
			return
		}
		if a-b < by {
			t.Errorf("%s: %s%v went from %v to %v, want at least +%v", what, name, labels, b, a, by)
		}
	}
	moved("the create answered", "fundbridge_requests_total", 1, "service", "identity", "outcome", "ok")
	moved("the invalid create refused", "fundbridge_requests_total", 1, "service", "identity", "outcome", "invalid")
	moved("the service's latency", "fundbridge_request_duration_seconds", 2, "service", "identity")
	moved("the HTTP latency of the route", "fundbridge_http_request_duration_seconds", 1, "route", "/api/v1/orgs", "method", "POST", "code", "201")
	moved("the 429", "fundbridge_http_request_duration_seconds", 1, "route", "/api/v1/orgs", "code", "429")
	moved("the refusal by the writes limit", "fundbridge_rate_limit_refusals_total", 1, "limit", "writes")
	moved("the appends", "fundbridge_store_append_duration_seconds", 1)
	moved("the appended events", "fundbridge_store_append_events", 1)

	if _, n := value(after, "fundbridge_nats_reconnects_total", "conn", "gateway"); n != 1 {
		t.Errorf("the gateway's NATS reconnects: %d series, want 1", n)
	}
	for _, s := range []struct{ kind, name string }{{"projection", "lifecycle"}, {"process", "closing"}, {"process", "syndication"}, {"process", "loan_arrears"}} {
		v, n := value(after, "fundbridge_lag_events", "kind", s.kind, "name", s.name)
		if n != 1 || v < 0 {
			t.Errorf("lag of %s %s: %v (%d series), want one series, not negative (negative: it could not be read)", s.kind, s.name, v, n)
		}
	}
	for _, proc := range []string{"closing", "syndication", "loan_arrears"} {
		if v, n := value(after, "fundbridge_process_deadlines_pending", "process", proc); n != 1 || v < 0 {
			t.Errorf("deadlines pending of %s: %v (%d series), want one series, not negative", proc, v, n)
		}
	}
	dashboardQueriesExist(t, after)
	if fams := after; fams["go_goroutines"] == nil || !strings.HasPrefix(fams["process_cpu_seconds_total"].GetName(), "process_") {
		t.Error("the Go runtime's and the process's collectors are missing")
	}
}

// metricName finds the metric names a PromQL expression names: ours, the
// Go runtime's and the process's.
var metricName = regexp.MustCompile(`\b(?:fundbridge|go|process)_[a-z0-9_]+\b`)

// dashboardQueriesExist checks that every metric the Grafana dashboard
// queries is one /metrics serves (a histogram's _bucket, _sum and _count
// by its family), so a renamed metric cannot leave a panel empty.
func dashboardQueriesExist(t *testing.T, fams map[string]*dto.MetricFamily) {
	t.Helper()
	data, err := os.ReadFile("../../deploy/grafana/fundbridge.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("deploy/grafana/fundbridge.json: %v", err)
	}
	queried := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, name := range metricName.FindAllString(tg.Expr, -1) {
				queried++
				family := name
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					if base, ok := strings.CutSuffix(name, suffix); ok && fams[base] != nil && fams[base].GetType() == dto.MetricType_HISTOGRAM {
						family = base
					}
				}
				if fams[family] == nil {
					t.Errorf("dashboard panel %q queries %s, which /metrics does not serve", p.Title, name)
				}
			}
		}
	}
	if queried < 10 {
		t.Errorf("the dashboard queries %d metrics; want one per panel at least", queried)
	}
}
