package clustertest

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"
)

// Topology is the product as the deploy files run it: every service its
// own process, two instances of applications, matching, deals and the
// gateway.
type Topology struct {
	*Cluster
	Procs    map[string]*Proc // by instance name: applications-1, views, …
	Gateways []string         // the gateways' base URLs
}

// OperatorEmail and OperatorPassword are the operator identity creates.
const (
	OperatorEmail    = "ops@cluster.test"
	OperatorPassword = "cluster operator pass phrase"
)

// StartTopology starts every service against c and waits until each is
// ready.
func StartTopology(ctx context.Context, c *Cluster) (*Topology, error) {
	return StartTopologyOf(ctx, c, 2)
}

// StartTopologyOf is StartTopology with n instances (1 or 2) of
// applications, matching, deals and the gateway.
func StartTopologyOf(ctx context.Context, c *Cluster, n int) (*Topology, error) {
	t := &Topology{Cluster: c, Procs: map[string]*Proc{}}
	tokenKey := filepath.Join(c.Dir, "gateway", "token.key")
	credKey := filepath.Join(c.Dir, "identity", "credential.key")
	type instance struct {
		name, service string
		extra         []string
	}
	var list []instance
	for _, s := range []string{"applications", "matching", "deals"} {
		for i := range n {
			list = append(list, instance{fmt.Sprintf("%s-%d", s, i+1), s, nil})
		}
	}
	list = append(list,
		instance{"funds", "funds", nil}, instance{"audit", "audit", nil},
		instance{"identity", "identity", []string{"--credential-key-file", credKey, "--operator-email", OperatorEmail, "--operator-password", OperatorPassword}},
		instance{"views", "views", []string{"--data-dir", filepath.Join(c.Dir, "views-data")}},
	)
	for i := range n {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		t.Gateways = append(t.Gateways, "http://"+addr)
		// Every client here is 127.0.0.1, and a sign-in right after a
		// sign-up is refused while a replica does not show the account
		// yet: the failed-sign-in limits (tested in the gateway) are
		// raised so that waiting out a kill is not taken for guessing.
		limits := []string{"--limit-signin-pair", "1000/1m", "--limit-signin-account", "1000/20s", "--limit-signin-address", "10000/10s"}
		list = append(list, instance{fmt.Sprintf("gateway-%d", i+1), "gateway", append([]string{"--http-addr", addr, "--token-key-file", tokenKey}, limits...)})
	}
	for _, in := range list {
		p, err := c.Serve(in.name, in.service, in.extra...)
		if err != nil {
			return nil, err
		}
		t.Procs[in.name] = p
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(t.Procs))
	for _, p := range t.Procs {
		wg.Go(func() { errs <- p.WaitReady(ctx, 2*time.Minute) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return t, nil
}
