package matching

import "slices"

// board is a fund's matches: application handles in ascending order and
// their scores, five bytes a match. Boards of busy funds hold thousands;
// a map would take four times the memory.
type board struct {
	apps   []uint32
	scores []uint8
}

// newBoard builds a board from handle<<8|score entries in any order.
func newBoard(entries []uint64) board {
	slices.Sort(entries)
	b := board{apps: make([]uint32, len(entries)), scores: make([]uint8, len(entries))}
	for i, x := range entries {
		b.apps[i], b.scores[i] = uint32(x>>8), uint8(x)
	}
	return b
}

func (b *board) get(h uint32) (uint8, bool) {
	if i, ok := slices.BinarySearch(b.apps, h); ok {
		return b.scores[i], true
	}
	return 0, false
}

func (b *board) set(h uint32, score uint8) {
	i, ok := slices.BinarySearch(b.apps, h)
	if ok {
		b.scores[i] = score
		return
	}
	b.apps = slices.Insert(b.apps, i, h)
	b.scores = slices.Insert(b.scores, i, score)
}

func (b *board) del(h uint32) {
	if i, ok := slices.BinarySearch(b.apps, h); ok {
		b.apps = slices.Delete(b.apps, i, i+1)
		b.scores = slices.Delete(b.scores, i, i+1)
	}
}

// filter rescores every entry, dropping those keep refuses.
func (b *board) filter(keep func(h uint32) (uint8, bool)) {
	n := 0
	for _, h := range b.apps {
		if s, ok := keep(h); ok {
			b.apps[n], b.scores[n] = h, s
			n++
		}
	}
	b.apps, b.scores = b.apps[:n], b.scores[:n]
}
