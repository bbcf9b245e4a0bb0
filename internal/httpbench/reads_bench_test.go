package httpbench

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// BenchmarkReads sends the read workloads' requests one after another
// (and, with -cpu, from that many goroutines) to the product started in
// this process, for a CPU profile of one read's whole path:
//
//	go test ./internal/httpbench -run '^$' -bench Reads -cpuprofile cpu.out
//
// ns/op is wall time; on a shared machine read cpu-µs/op (the whole
// process's CPU time, client included, per request).
func BenchmarkReads(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cfg := Config{DataDir: b.TempDir(), Quick: true, Companies: 20}
	cfg.defaults()
	p, err := start(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer p.close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for _, w := range []string{"read-company", "read-list", "read-lifecycle"} {
		b.Run(w, func(b *testing.B) {
			tr, err := p.targeter(w)
			if err != nil {
				b.Fatal(err)
			}
			cpu0 := processCPU()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var t vegeta.Target
				for pb.Next() {
					if err := tr(&t); err != nil {
						b.Error(err)
						return
					}
					req, err := t.Request()
					if err != nil {
						b.Error(err)
						return
					}
					res, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != http.StatusOK {
						b.Errorf("%s %s: %d", t.Method, t.URL, res.StatusCode)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}
