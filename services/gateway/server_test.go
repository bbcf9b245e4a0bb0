package gateway

import (
	"testing"

	"github.com/fundbridge/fundbridge/projections"
)

// The write deadline runs from the request's headers to the last byte of
// the answer: the slowest answer (a body read, then a service call that
// may wait for a view) must fit, or it is cut off instead of answered.
func TestServerTimeoutsFitTheWaitingReads(t *testing.T) {
	d := DefaultServerTimeouts()
	srv := NewServer(nil, ServerTimeouts{})
	if srv.ReadHeaderTimeout != d.ReadHeader || srv.ReadTimeout != d.Read || srv.WriteTimeout != d.Write || srv.IdleTimeout != d.Idle {
		t.Fatalf("server timeouts %v %v %v %v, want the defaults %+v", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout, d)
	}
	if d.ReadHeader <= 0 || d.Read <= 0 || d.Write <= 0 || d.Idle <= 0 {
		t.Fatalf("a timeout is off: %+v", d)
	}
	if callTimeout <= projections.MaxWait || d.Write <= callTimeout {
		t.Errorf("write timeout %s, call timeout %s: a waiting read (up to %s) does not fit", d.Write, callTimeout, projections.MaxWait)
	}
}
