package svc

import (
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// Two keys never wait for each other, however their hashes fall.
func TestKeyLocksOfTwoKeysDoNotWait(t *testing.T) {
	var k keyLocks
	unlockA := k.lock("application-a")
	defer unlockA()
	done := make(chan struct{})
	go func() {
		// 5,000 other keys: one of them would share a mutex with the held
		// key in any fixed set of a few hundred stripes.
		for i := range 5000 {
			k.lock("application-" + strconv.Itoa(i))()
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("locking other keys waited for a held one")
	}
}

// One key is held by one at a time, the next taking it when it is let go;
// and no entry is left once nobody holds or waits.
func TestKeyLocksOfOneKeyTakeTurns(t *testing.T) {
	var k keyLocks
	unlock := k.lock("application-a")
	var took atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		u := k.lock("application-a")
		took.Store(true)
		u()
	}()
	for k.waiting("application-a") < 2 { // the second has come and waits
		runtime.Gosched()
	}
	if took.Load() {
		t.Fatal("a second caller took a held key")
	}
	unlock()
	<-done
	if !took.Load() {
		t.Fatal("the waiting caller never took the key")
	}
	if n := k.waiting("application-a"); n != 0 || len(k.held) != 0 {
		t.Fatalf("%d holders or waiters and %d entries left, want none", n, len(k.held))
	}
}

// waiting reports how many hold or wait for key.
func (k *keyLocks) waiting(key string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	if l := k.held[key]; l != nil {
		return l.refs
	}
	return 0
}
