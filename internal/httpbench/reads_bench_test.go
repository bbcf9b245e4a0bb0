package httpbench

import (
	"net/http"
	"testing"

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
	p, client := benchProduct(b)
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
					if err := send(client, tr, &t, http.StatusOK); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}
