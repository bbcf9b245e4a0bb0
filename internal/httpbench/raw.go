package httpbench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/fundbridge/fundbridge/internal/natsserver"
)

// rawPublisher is the baseline: c publishers, each publishing 300-byte
// messages synchronously to subjects of its own, each conditional on its
// subject's last sequence, on a file stream of an fsync-always server.
type rawPublisher struct {
	nc    *nats.Conn
	js    njs.JetStream
	srv   *natsserver.Server // when it started one
	c     int
	last  []uint64
	where string
	run   int // open-loop steps so far, each on subjects of its own
}

const rawStream = "BENCH_HTTP_RAW"

// newRawPublisher connects to url, or starts an fsync-always server in
// dir when url is empty.
func newRawPublisher(ctx context.Context, url, dir string, c int, opts ...nats.Option) (*rawPublisher, error) {
	r := &rawPublisher{c: c, last: make([]uint64, c), where: "the product's NATS server"}
	if url == "" {
		dir = filepath.Join(dir, "raw-nats")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		srv, err := natsserver.Start(natsserver.Options{Addr: "127.0.0.1:0", DataDir: dir, SyncAlways: true})
		if err != nil {
			return nil, err
		}
		r.srv, url, r.where = srv, srv.ClientURL(), "an embedded fsync-always server on this machine"
		opts = nil
	}
	var err error
	if r.nc, err = nats.Connect(url, opts...); err != nil {
		r.close()
		return nil, err
	}
	if r.js, err = njs.New(r.nc); err != nil {
		r.close()
		return nil, err
	}
	if _, err := r.js.CreateOrUpdateStream(ctx, njs.StreamConfig{Name: rawStream, Subjects: []string{"benchhttpraw.>"}, Storage: njs.FileStorage}); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

func (r *rawPublisher) close() {
	if r.js != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = r.js.DeleteStream(ctx, rawStream) // leave a running server as it was
		cancel()
	}
	if r.nc != nil {
		r.nc.Close()
	}
	if r.srv != nil {
		r.srv.Shutdown()
	}
}

var rawBody = make([]byte, 300)

// round publishes from every publisher for d and returns messages per
// second.
func (r *rawPublisher) round(ctx context.Context, d time.Duration) (float64, error) {
	var done atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, r.c)
	start := time.Now()
	deadline := start.Add(d)
	for g := range r.c {
		wg.Go(func() {
			subject := "benchhttpraw.p" + strconv.Itoa(g)
			for time.Now().Before(deadline) {
				msg := nats.NewMsg(subject)
				msg.Data = rawBody
				msg.Header.Set(njs.ExpectedLastSubjSeqHeader, strconv.FormatUint(r.last[g], 10))
				ack, err := r.js.PublishMsg(ctx, msg)
				if err != nil {
					errs <- fmt.Errorf("raw publish: %w", err)
					return
				}
				r.last[g] = ack.Sequence
				done.Add(1)
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return float64(done.Load()) / time.Since(start).Seconds(), nil
}

// openLoop publishes rate messages per second for d, open loop as the
// HTTP load is: each on time, in a goroutine of its own, whether or not
// the earlier ones are answered. Each goes to a subject of its own,
// conditional on the subject being new, as an application's first event
// is: the raw counterpart of one HTTP write's append.
func (r *rawPublisher) openLoop(ctx context.Context, rate float64, d time.Duration) (step, error) {
	s := step{asked: rate}
	n := int(rate * d.Seconds())
	lat := make([]time.Duration, n)
	failed := make([]error, n)
	var wg sync.WaitGroup
	every := time.Duration(float64(time.Second) / rate)
	cpu0 := processCPU()
	start := time.Now()
	r.run++
	for i := range n {
		if wait := time.Until(start.Add(time.Duration(i) * every)); wait > 0 {
			time.Sleep(wait)
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			msg := nats.NewMsg("benchhttpraw.o" + strconv.Itoa(r.run) + "." + strconv.Itoa(i))
			msg.Data = rawBody
			msg.Header.Set(njs.ExpectedLastSubjSeqHeader, "0")
			t := time.Now()
			_, failed[i] = r.js.PublishMsg(ctx, msg)
			lat[i] = time.Since(t)
		})
	}
	wg.Wait()
	took := time.Since(start)
	if err := ctx.Err(); err != nil {
		return s, err
	}
	for _, err := range failed {
		if err != nil {
			if s.errors++; s.firstError == "" {
				s.firstError = err.Error()
			}
		}
	}
	s.requests, s.cpuPerReq = uint64(n), (processCPU()-cpu0)/time.Duration(max(n, 1))
	s.settle(lat, float64(n-s.errors)/took.Seconds())
	return s, nil
}
