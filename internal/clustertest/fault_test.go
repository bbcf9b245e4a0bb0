package clustertest

import (
	"context"
	"os"
	"testing"
	"time"
)

func TestFault(t *testing.T) {
	if os.Getenv("FUNDBRIDGE_FAULT_TEST") == "" {
		t.Skip("the fault test runs a NATS cluster and a dozen processes: make fault (FUNDBRIDGE_FAULT_TEST=1)")
	}
	ctx := context.Background()
	c, err := Start(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	started := time.Now()
	top, err := StartTopology(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cluster and %d processes ready in %s; gateways %v", len(top.Procs), time.Since(started), top.Gateways)
}
