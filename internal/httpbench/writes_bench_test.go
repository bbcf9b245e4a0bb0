package httpbench

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// BenchmarkWrites drafts applications with new idempotency keys from a
// fixed number of writers, closed loop, against the product started in
// this process, for the CPU one HTTP write costs (cpu-µs/op: the whole
// process's CPU, client included, per write). One writer sees no group
// commit; more share fsyncs. Compare builds by running their test
// binaries in turn:
//
//	go test ./internal/httpbench -run '^$' -bench Writes -benchtime 2000x
func BenchmarkWrites(b *testing.B) {
	p, client := benchProduct(b)
	for _, writers := range []int{1, 16} {
		b.Run(fmt.Sprintf("writers-%d", writers), func(b *testing.B) {
			tr, err := p.targeter("writes")
			if err != nil {
				b.Fatal(err)
			}
			jobs := make(chan struct{})
			var wg sync.WaitGroup
			cpu0 := processCPU()
			b.ResetTimer()
			for range writers {
				wg.Go(func() {
					var t vegeta.Target
					for range jobs {
						if err := send(client, tr, &t, http.StatusCreated); err != nil {
							b.Error(err) // and go on: the sender must not block
						}
					}
				})
			}
			for range b.N {
				jobs <- struct{}{}
			}
			close(jobs)
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}
