package timeline

import (
	"fmt"
	"testing"
)

// Past strSearchMax strings a company finds them through an index; the
// indexes it hands out are the same either way, and the index is rebuilt
// when a company comes back from a snapshot without it.
func TestStrIndexesStayTheSame(t *testing.T) {
	var c Company
	want := map[string]int32{}
	for i := range 3 * strSearchMax {
		s := fmt.Sprintf("app-%d", i)
		want[s] = c.str(s)
		if again := c.str(s); again != want[s] {
			t.Fatalf("%s: %d, then %d", s, want[s], again)
		}
	}
	if c.index == nil {
		t.Fatal("no index past strSearchMax strings")
	}
	restored := Company{Strings: c.Strings} // as a snapshot restores it
	for s, i := range want {
		if got := restored.str(s); got != i {
			t.Errorf("after restore %s: %d, want %d", s, got, i)
		}
	}
	if n := len(restored.Strings); n != len(want) {
		t.Errorf("%d strings after looking up known ones, want %d", n, len(want))
	}
	if c.str("") != -1 {
		t.Error(`"" is not -1`)
	}
}

// BenchmarkStr looks up a known string in a company naming n things,
// through str and, as the baseline, by the search str did for every n
// before (go test ./projections/timeline -run '^$' -bench Str).
func BenchmarkStr(b *testing.B) {
	for _, n := range []int{16, 1_000, 10_000} {
		var c Company
		keys := make([]string, n)
		for i := range keys {
			keys[i] = fmt.Sprintf("application-%08d", i)
			c.str(keys[i])
		}
		b.Run(fmt.Sprintf("str/%d", n), func(b *testing.B) {
			i := 0
			for b.Loop() {
				c.str(keys[i%n])
				i++
			}
		})
		b.Run(fmt.Sprintf("search/%d", n), func(b *testing.B) {
			i := 0
			for b.Loop() {
				s := keys[i%n]
				for j := len(c.Strings) - 1; j >= 0; j-- {
					if c.Strings[j] == s {
						break
					}
				}
				i++
			}
		})
	}
}
