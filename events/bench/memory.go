package bench

import (
	"bufio"
	"bytes"
	"os"
	"runtime/metrics"
	"strconv"
	"sync"
	"time"
)

// Memory follows a measured phase's memory: the process's peak resident
// set (VmHWM, which the kernel keeps, so nothing between two samples is
// missed) and the peak of the Go heap in use, sampled every 10 ms from
// runtime/metrics (which, unlike ReadMemStats, does not stop the world).
//
// Reset starts the phase: it clears the kernel's peak (writing 5 to
// /proc/self/clear_refs), so that setup before it does not count. Without
// that (not Linux, or not allowed) the peak is the process's since it
// started; fundbridge bench runs each scenario in a fresh process so that
// it is at least that scenario's alone.
type Memory struct {
	mu        sync.Mutex
	heapPeak  uint64
	rssReset  bool
	stop      chan struct{}
	stopped   chan struct{}
	sample    []metrics.Sample
	startOnce sync.Once
}

const heapMetric = "/memory/classes/heap/objects:bytes"

// NewMemory starts sampling the heap; Stop ends it.
func NewMemory() *Memory {
	m := &Memory{stop: make(chan struct{}), stopped: make(chan struct{}), sample: []metrics.Sample{{Name: heapMetric}}}
	go m.loop()
	return m
}

func (m *Memory) loop() {
	defer close(m.stopped)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		m.read()
		select {
		case <-m.stop:
			return
		case <-tick.C:
		}
	}
}

func (m *Memory) read() {
	m.mu.Lock()
	defer m.mu.Unlock()
	metrics.Read(m.sample)
	if v := m.sample[0].Value; v.Kind() == metrics.KindUint64 && v.Uint64() > m.heapPeak {
		m.heapPeak = v.Uint64()
	}
}

// Reset starts the measured phase now.
func (m *Memory) Reset() {
	if m == nil {
		return
	}
	reset := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	m.mu.Lock()
	m.heapPeak, m.rssReset = 0, reset
	m.mu.Unlock()
	m.read()
}

// Peak returns the peaks so far, in bytes, without ending the phase: a
// scenario reports the peak of one part of its phase with it.
func (m *Memory) Peak() (rss, heap uint64) {
	if m == nil {
		return 0, 0
	}
	m.read()
	m.mu.Lock()
	defer m.mu.Unlock()
	return peakRSS(), m.heapPeak
}

// Stop ends sampling and returns the peaks in bytes (RSS 0 where the
// kernel does not report it) and whether the RSS peak is the phase's
// alone (true) or the process's since it started.
func (m *Memory) Stop() (rss, heap uint64, phaseOnly bool) {
	m.startOnce.Do(func() { close(m.stop) })
	<-m.stopped
	m.read()
	m.mu.Lock()
	defer m.mu.Unlock()
	return peakRSS(), m.heapPeak, m.rssReset
}

// peakRSS reads VmHWM from /proc/self/status; 0 if there is none.
func peakRSS() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.HasPrefix(line, []byte("VmHWM:")) {
			continue
		}
		f := bytes.Fields(line[len("VmHWM:"):])
		if len(f) == 0 {
			return 0
		}
		kb, err := strconv.ParseUint(string(f[0]), 10, 64)
		if err != nil {
			return 0
		}
		return kb << 10
	}
	return 0
}

// MemoryResults are the phase's peaks as figures; a budget in MiB (0 for
// none) becomes the RSS target.
func MemoryResults(scenario string, m *Memory, rssBudgetMiB float64) []Result {
	rss, heap, phase := m.Stop()
	const mib = 1 << 20
	metric := "peak_rss"
	if !phase {
		metric = "peak_rss_process" // not reset at the phase's start
	}
	var out []Result
	if rss > 0 {
		r := Result{Scenario: scenario + "/memory", Metric: metric, Value: float64(rss) / mib, Unit: "MiB"}
		if rssBudgetMiB > 0 {
			r = Budget(scenario+"/memory", metric, float64(rss)/mib, "MiB", rssBudgetMiB, "<= "+strconv.FormatFloat(rssBudgetMiB, 'f', 0, 64)+" MiB")
		}
		out = append(out, r)
	}
	out = append(out, Result{Scenario: scenario + "/memory", Metric: "peak_heap_inuse", Value: float64(heap) / mib, Unit: "MiB"})
	return out
}
