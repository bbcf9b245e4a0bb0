package viewstate_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/internal/testenv"
	"github.com/fundbridge/fundbridge/services/svc/viewstate"
)

type added struct {
	N int `json:"n"`
}

func (added) EventType() string { return "counter.added.v1" }

func registry() *events.Registry {
	r := events.NewRegistry()
	events.Register[added](r, added{}.EventType())
	return r
}

// totals is a model: each stream's numbers in the order they came, so a
// fold that skips, repeats or reorders an event shows.
type totals struct {
	mu    sync.RWMutex
	Trail map[string][]int
}

func newTotals() *totals { return &totals{Trail: map[string][]int{}} }

func (t *totals) fold(e events.Event) error {
	var a added
	if err := json.Unmarshal(e.Payload, &a); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.Trail[e.StreamID]
	t.Trail[e.StreamID] = append(old[:len(old):len(old)], a.N) // copy on write: a capture shares old
	return nil
}

func (t *totals) Capture() func() ([]byte, error) {
	t.mu.RLock()
	trail := maps.Clone(t.Trail)
	t.mu.RUnlock()
	return func() ([]byte, error) {
		var buf bytes.Buffer
		err := gob.NewEncoder(&buf).Encode(trail)
		return buf.Bytes(), err
	}
}

func (t *totals) Restore(data []byte) error {
	var trail map[string][]int
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&trail); err != nil {
		return err
	}
	t.mu.Lock()
	t.Trail = trail
	t.mu.Unlock()
	return nil
}

func (t *totals) Reset() {
	t.mu.Lock()
	t.Trail = map[string][]int{}
	t.mu.Unlock()
}

func (t *totals) snapshot() map[string][]int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return maps.Clone(t.Trail)
}

// appendN appends n events over a few streams, some appends of several
// events, and returns the log's head.
func appendN(t *testing.T, store events.Store, rng *rand.Rand, n int) uint64 {
	t.Helper()
	ctx := context.Background()
	for n > 0 {
		k := min(n, 1+rng.IntN(3))
		var evs []events.NewEvent
		for range k {
			p, _ := json.Marshal(added{N: rng.IntN(1000)})
			evs = append(evs, events.NewEvent{Type: added{}.EventType(), Payload: p})
		}
		if _, err := store.Append(ctx, events.AppendRequest{StreamID: fmt.Sprintf("counter-%d", rng.IntN(7)), Expected: events.Any, Meta: meta, Events: evs}); err != nil {
			t.Fatal(err)
		}
		n -= k
	}
	head, err := store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return head
}

// run starts a view over a fresh model and waits until it reflects head;
// stop ends it (saving its checkpoint) and returns what it folded.
type running struct {
	view   *viewstate.View
	model  *totals
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, log viewstate.Log, dir, version string, head uint64, logs *bytes.Buffer) *running {
	t.Helper()
	m := newTotals()
	logger := slog.New(slog.DiscardHandler)
	if logs != nil {
		logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	v := viewstate.New("totals", log, m, m.fold, viewstate.Options{Dir: dir, Version: version, SaveEvery: 50, Logger: logger})
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{view: v, model: m, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- v.Run(ctx) }()
	wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer wcancel()
	if err := v.WaitFor(wctx, head); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	if err := <-r.done; err != nil {
		t.Fatal(err)
	}
}

// A restart resumes from the checkpoint written when the view stopped
// and folds only the events appended since.
func TestRestartFoldsOnlyTheTail(t *testing.T) {
	env := testenv.Start(t, registry())
	rng := rand.New(rand.NewPCG(1, 2))
	dir := t.TempDir()
	head := appendN(t, env.Store, rng, 300)
	first := start(t, env.Store, dir, "v1", head, nil)
	if got := first.view.Stats(); got.RestoredFrom != 0 || got.Folded != 300 {
		t.Fatalf("first start: %+v, want 300 folded from 0", got)
	}
	first.stop(t)
	want := first.model.snapshot()

	head = appendN(t, env.Store, rng, 17)
	second := start(t, env.Store, dir, "v1", head, nil)
	defer second.stop(t)
	st := second.view.Stats()
	if st.RestoredFrom == 0 || st.Folded != 17 {
		t.Fatalf("restart: %+v, want the 17 events of the tail folded after the checkpoint", st)
	}
	got := second.model.snapshot()
	fresh := start(t, env.Store, "", "v1", head, nil)
	defer fresh.stop(t)
	if !reflect.DeepEqual(got, fresh.model.snapshot()) {
		t.Fatal("resumed state differs from a fold from 0")
	}
	for k, v := range want {
		if !reflect.DeepEqual(got[k][:len(v)], v) {
			t.Errorf("%s: resumed %v does not extend %v", k, got[k], v)
		}
	}
}

// A checkpoint the view cannot use is ignored, said in the log, and the
// log folded from 0 to the same state.
func TestUnusableCheckpointsRefoldFromZero(t *testing.T) {
	env := testenv.Start(t, registry())
	rng := rand.New(rand.NewPCG(3, 4))
	head := appendN(t, env.Store, rng, 120)
	cases := []struct {
		name    string
		spoil   func(t *testing.T, path string)
		version string
		reason  string
	}{
		{"damaged", func(t *testing.T, path string) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			data[len(data)/2] ^= 0xff
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "v1", "checksum mismatch"},
		{"truncated", func(t *testing.T, path string) {
			if err := os.Truncate(path, 20); err != nil {
				t.Fatal(err)
			}
		}, "v1", "unreadable"},
		{"not a checkpoint", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte("hello"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "v1", "not a checkpoint file"},
		{"another fold version", func(*testing.T, string) {}, "v2", `of fold version`},
		{"undecodable state", func(t *testing.T, path string) {
			h, _, err := viewstate.Read(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := viewstate.Write(dir(path), h, []byte("not gob")); err != nil {
				t.Fatal(err)
			}
		}, "v1", "undecodable"},
	}
	fresh := start(t, env.Store, "", "v1", head, nil)
	defer fresh.stop(t)
	want := fresh.model.snapshot()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := t.TempDir()
			start(t, env.Store, d, "v1", head, nil).stop(t)
			c.spoil(t, viewstate.Path(d, "totals"))
			var logs bytes.Buffer
			r := start(t, env.Store, d, c.version, head, &logs)
			defer r.stop(t)
			if st := r.view.Stats(); st.RestoredFrom != 0 || st.Folded != 120 {
				t.Errorf("stats %+v, want all 120 folded from 0", st)
			}
			if !reflect.DeepEqual(r.model.snapshot(), want) {
				t.Error("refolded state differs from a fold from 0")
			}
			if !strings.Contains(logs.String(), "checkpoint ignored") || !strings.Contains(logs.String(), c.reason) {
				t.Errorf("log does not say why the checkpoint was ignored (%q):\n%s", c.reason, logs.String())
			}
		})
	}
}

func dir(path string) string { return path[:strings.LastIndex(path, "/")] }

// A checkpoint of another log — one that ends before it, or that holds
// another event where it stopped — is refused: the view folds the log it
// has from 0 instead of answering for events that log does not hold.
func TestCheckpointOfAnotherLogIsRefused(t *testing.T) {
	d := t.TempDir()
	old := testenv.Start(t, registry())
	rng := rand.New(rand.NewPCG(5, 6))
	head := appendN(t, old.Store, rng, 80)
	start(t, old.Store, d, "v1", head, nil).stop(t)

	shorter := testenv.Start(t, registry())
	short := appendN(t, shorter.Store, rng, 10)
	var logs bytes.Buffer
	r := start(t, shorter.Store, d, "v1", short, &logs)
	if st := r.view.Stats(); st.RestoredFrom != 0 || st.Folded != 10 {
		t.Errorf("behind the checkpoint: %+v, want 10 folded from 0", st)
	}
	if !strings.Contains(logs.String(), "ahead of the log") {
		t.Errorf("log does not say the checkpoint is ahead:\n%s", logs.String())
	}
	r.stop(t)

	d2 := t.TempDir()
	start(t, old.Store, d2, "v1", head, nil).stop(t)
	other := testenv.Start(t, registry())
	longer := appendN(t, other.Store, rng, 200)
	logs.Reset()
	r = start(t, other.Store, d2, "v1", longer, &logs)
	defer r.stop(t)
	if st := r.view.Stats(); st.RestoredFrom != 0 || st.Folded != 200 {
		t.Errorf("another log past the checkpoint: %+v, want 200 folded from 0", st)
	}
	if !strings.Contains(logs.String(), "the log was replaced") && !strings.Contains(logs.String(), "no append ending") {
		t.Errorf("log does not say the log was replaced:\n%s", logs.String())
	}
}

// Whatever the log and wherever the view stopped, resuming reaches the
// state a fold from 0 reaches. Each view stops while the log is being
// written, so checkpoints land at arbitrary appends, some saved in the
// background.
func TestResumedStateEqualsAFoldFromZero(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	env := testenv.Start(t, registry())
	d := t.TempDir()
	head := appendN(t, env.Store, rng, 1+rng.IntN(100))
	for round := range 6 {
		r := start(t, env.Store, d, "v1", head, nil)
		if round > 0 && r.view.Stats().RestoredFrom == 0 {
			t.Errorf("round %d: did not resume from a checkpoint", round)
		}
		fresh := start(t, env.Store, "", "v1", head, nil)
		if !reflect.DeepEqual(r.model.snapshot(), fresh.model.snapshot()) {
			t.Fatalf("round %d (seed %d): resumed state differs from a fold from 0", round, seed)
		}
		fresh.stop(t)
		more := rand.New(rand.NewPCG(rng.Uint64(), 8))
		wrote := make(chan error, 1)
		go func() {
			for range 1 + more.IntN(150) {
				p, _ := json.Marshal(added{N: more.IntN(1000)})
				_, err := env.Store.Append(context.Background(), events.AppendRequest{StreamID: fmt.Sprintf("counter-%d", more.IntN(7)), Expected: events.Any, Meta: meta,
					Events: []events.NewEvent{{Type: added{}.EventType(), Payload: p}}})
				if err != nil {
					wrote <- err
					return
				}
			}
			wrote <- nil
		}()
		time.Sleep(time.Duration(rng.IntN(30)) * time.Millisecond)
		r.stop(t)
		if err := <-wrote; err != nil {
			t.Fatal(err)
		}
		if head, _ = env.Store.Head(context.Background()); head == 0 {
			t.Fatal("empty log")
		}
	}
}

var meta = events.Meta{Actor: fundbridge.Actor{UserID: "test", Role: fundbridge.RoleSystem}}
