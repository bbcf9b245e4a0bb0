package bench

import (
	"context"
	"fmt"
	"slices"
)

// Measure runs one round of a workload and returns its rate (operations
// per second: higher is better).
type Measure func(ctx context.Context) (float64, error)

// Rounds are the rates of several workloads measured in turn: Rates[w][r]
// is workload w in round r.
type Rounds struct {
	Names []string
	Rates [][]float64
}

// Interleave runs every workload once unmeasured (the warm-up), then n
// measured rounds. Round r starts with workload r mod len(ms), so none
// always goes first (and pays for the garbage or the disk state another
// left); with two workloads that is raw, ours, then ours, raw.
func Interleave(ctx context.Context, n int, names []string, ms ...Measure) (Rounds, error) {
	if len(names) != len(ms) {
		return Rounds{}, fmt.Errorf("interleave: %d names for %d workloads", len(names), len(ms))
	}
	rs := Rounds{Names: names, Rates: make([][]float64, len(ms))}
	for round := -1; round < n; round++ {
		for i := range ms {
			w := (max(round, 0) + i) % len(ms)
			rate, err := ms[w](ctx)
			if err != nil {
				if round < 0 {
					return rs, fmt.Errorf("%s, warm-up: %w", names[w], err)
				}
				return rs, fmt.Errorf("%s, round %d: %w", names[w], round+1, err)
			}
			if round >= 0 {
				rs.Rates[w] = append(rs.Rates[w], rate)
			}
		}
	}
	return rs, nil
}

// Compare is ours against base: the median of each side and of the ratios
// of the rounds (each ratio from two workloads measured next to each
// other), with the smallest and largest ratio.
func (rs Rounds) Compare(ours, base int) Paired {
	return Pair(rs.Rates[ours], rs.Rates[base])
}

// Median of workload w's rates.
func (rs Rounds) Median(w int) float64 { return Median(rs.Rates[w]) }

// Paired is a comparison from rounds measured side by side.
type Paired struct {
	Ours, Base      float64 // medians of each side
	Ratio, Min, Max float64 // median, smallest and largest per-round ratio
	Pairs           int
}

// Pair compares ours[i] with base[i] round by round.
func Pair(ours, base []float64) Paired {
	n := min(len(ours), len(base))
	ratios := make([]float64, 0, n)
	for i := range n {
		if base[i] > 0 {
			ratios = append(ratios, ours[i]/base[i])
		}
	}
	p := Paired{Ours: Median(ours), Base: Median(base), Pairs: len(ratios)}
	if len(ratios) > 0 {
		p.Ratio, p.Min, p.Max = Median(ratios), slices.Min(ratios), slices.Max(ratios)
	}
	return p
}

// Result is the comparison as a figure with a target: met is decided on
// the median ratio.
func (p Paired) Result(scenario, metric, unit, target string, met func(float64) bool) Result {
	r := Result{Scenario: scenario, Metric: metric, Value: p.Ours, Unit: unit, Baseline: p.Base,
		Ratio: p.Ratio, RatioMin: p.Min, RatioMax: p.Max, Pairs: p.Pairs, Target: target}
	if met != nil && p.Pairs > 0 {
		ok := met(p.Ratio)
		r.Met = &ok
	}
	return r
}

// Median of xs (the mean of the middle two for an even count); 0 if empty.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	mid := len(s) / 2
	if len(s)%2 == 0 {
		return (s[mid-1] + s[mid]) / 2
	}
	return s[mid]
}

// AtLeast and AtMost decide a target on a ratio.
func AtLeast(x float64) func(float64) bool { return func(r float64) bool { return r >= x } }

// AtMost: see AtLeast.
func AtMost(x float64) func(float64) bool { return func(r float64) bool { return r <= x } }

// Budget is a figure against a fixed budget (a latency in ms, a size in
// MiB): Ratio = value / budget, met when it is at most 1.
func Budget(scenario, metric string, value float64, unit string, budget float64, target string) Result {
	ok := value <= budget
	return Result{Scenario: scenario, Metric: metric, Value: value, Unit: unit, Baseline: budget,
		Ratio: value / budget, Target: target, Met: &ok}
}
