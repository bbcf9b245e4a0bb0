package clustertest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestBenchCluster runs fundbridge bench http against the cluster's
// gateway, with one instance of each scaled service and then with two,
// and against fundbridge dev's in-process product; each run measures
// its raw JetStream baseline beside it (an embedded fsync-always server:
// bench http's raw publish cannot use the cluster's per-service users).
// FUNDBRIDGE_BENCH_CLUSTER=1 runs it; FUNDBRIDGE_BENCH_ARGS replaces
// --quick.
func TestBenchCluster(t *testing.T) {
	if os.Getenv("FUNDBRIDGE_BENCH_CLUSTER") == "" {
		t.Skip("a benchmark: FUNDBRIDGE_BENCH_CLUSTER=1")
	}
	extra := strings.Fields(os.Getenv("FUNDBRIDGE_BENCH_ARGS"))
	if len(extra) == 0 {
		extra = []string{"--quick", "--workloads", "writes,mix"}
	}
	ctx := context.Background()
	for _, n := range []int{1, 2} {
		c, err := Start(ctx, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		top, err := StartTopologyOf(ctx, c, n)
		if err != nil {
			c.Close()
			t.Fatal(err)
		}
		args := append([]string{"bench", "http", "--url", top.Gateways[0], "--operator-email", OperatorEmail, "--operator-password", OperatorPassword}, extra...)
		out, err := exec.Command(c.Bin, args...).CombinedOutput()
		t.Logf("cluster, %d instance(s) of applications, matching, deals (one gateway):\n%s", n, out)
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			out, err := exec.Command(c.Bin, append([]string{"bench", "http"}, extra...)...).CombinedOutput()
			t.Logf("dev (everything in one process):\n%s", out)
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}
