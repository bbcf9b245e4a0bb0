package events

import (
	"crypto/rand"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// IDs is a source of ULIDs: sortable by time, unique without coordination.
// Safe for concurrent use.
type IDs struct {
	mu      sync.Mutex
	entropy *ulid.MonotonicEntropy
}

// NewIDs returns a ULID source seeded from crypto/rand.
func NewIDs() *IDs {
	return &IDs{entropy: ulid.Monotonic(rand.Reader, 0)}
}

// New returns a fresh ULID string.
func (g *IDs) New() string {
	g.mu.Lock()
	id := ulid.MustNew(ulid.Timestamp(time.Now()), g.entropy)
	g.mu.Unlock()
	return id.String() // outside the lock: only the entropy is shared
}
