package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/fundbridge/fundbridge/events/jetstream"
	"github.com/fundbridge/fundbridge/internal/natsserver"
	"github.com/fundbridge/fundbridge/services/gateway"
)

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("dev", "fundbridge dev [flags]", stderr)
	dataDir := f.string("data-dir", "./data", "where JetStream keeps the event log")
	httpAddr := f.string("http-addr", ":8080", "HTTP listen address; port 0 picks a free one")
	natsAddr := f.string("nats-addr", "127.0.0.1:4222", "embedded NATS listen address; port 0 picks a free one")
	fsync := f.bool("fsync", true, "fsync every write before acknowledging it (off loses acknowledged writes on power failure)")
	operatorEmail := f.string("operator-email", "operator@fundbridge.local", "email of the first operator account, created on first start")
	operatorPassword := f.string("operator-password", "", "its password; generated and printed once when empty")
	logFormat := f.string("log-format", "text", "log format: text or json")
	logLevel := f.string("log-level", "info", "log level: debug, info, warn or error")
	if err := f.Parse(args); err != nil {
		return err
	}
	if f.NArg() > 0 {
		return fmt.Errorf("%w: dev takes no arguments, got %q", errUsage, f.Args())
	}
	log, err := newLogger(*logFormat, *logLevel, stderr)
	if err != nil {
		return err
	}

	natsDir := filepath.Join(*dataDir, "nats")
	if err := os.MkdirAll(natsDir, 0o750); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	srv, err := natsserver.Start(natsserver.Options{Addr: *natsAddr, DataDir: natsDir, SyncAlways: *fsync, Name: "fundbridge-dev"})
	if err != nil {
		return fmt.Errorf("embedded NATS on %s: %w", *natsAddr, err)
	}
	defer srv.Shutdown()

	nc, err := connect(srv.ClientURL(), "fundbridge-store")
	if err != nil {
		return err
	}
	defer nc.Close()
	reg := newRegistry()
	store, err := jetstream.Open(ctx, nc, reg, jetstream.Options{GroupCommit: *fsync})
	if err != nil {
		return err
	}
	defer store.Close()
	snaps, err := jetstream.OpenSnapshots(ctx, nc, 1)
	if err != nil {
		return err
	}

	svcCtx, stopServices := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	var names []string
	for name, build := range builders() {
		// Each service has its own connection, as it would in a cluster.
		snc, err := connect(srv.ClientURL(), "fundbridge-"+name)
		if err != nil {
			stopServices()
			return err
		}
		defer snc.Close()
		c := build(deps{store: store, snapshots: snaps, registry: reg, nc: snc, log: log})
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := runComponent(svcCtx, snc, c, log); err != nil {
				log.Error("service stopped", "service", name, "err", err)
			}
		}()
		names = append(names, name)
	}
	sort.Strings(names)

	key, err := gateway.LoadOrCreateKey(filepath.Join(*dataDir, "gateway", "token.key"))
	if err != nil {
		stopServices()
		return err
	}
	tokens, err := gateway.NewTokens(key, 0)
	if err != nil {
		stopServices()
		return err
	}
	gnc, err := connect(srv.ClientURL(), "fundbridge-gateway")
	if err != nil {
		stopServices()
		return err
	}
	defer gnc.Close()
	ln, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		stopServices()
		return fmt.Errorf("HTTP on %s: %w", *httpAddr, err)
	}
	httpSrv := &http.Server{Handler: gateway.New(gnc, gateway.Options{Tokens: tokens, Logger: log, Version: version}).Handler(), ReadHeaderTimeout: 10 * time.Second}
	httpErr := make(chan error, 1)
	go func() { httpErr <- httpSrv.Serve(ln) }()

	durability := "fsync before every acknowledgement"
	if !*fsync {
		durability = "lazy fsync (acknowledged writes can be lost on power failure)"
	}
	fmt.Fprintf(stdout, "Fundbridge %s is running.\n", version)
	fmt.Fprintf(stdout, "  HTTP      http://%s\n", displayAddr(ln.Addr()))
	fmt.Fprintf(stdout, "  NATS      %s\n", srv.ClientURL())
	fmt.Fprintf(stdout, "  data      %s (%s)\n", absPath(*dataDir), durability)
	fmt.Fprintf(stdout, "  services  gateway, %s\n", joinNames(names))
	if err := bootstrapOperator(ctx, gnc, *operatorEmail, *operatorPassword, stdout); err != nil {
		log.Error("no operator account", "err", err)
	}
	fmt.Fprintf(stdout, "Press Ctrl-C to stop.\n")

	select {
	case <-ctx.Done():
	case err := <-httpErr:
		stopServices()
		wg.Wait()
		return fmt.Errorf("HTTP server: %w", err)
	}
	fmt.Fprintln(stdout, "Shutting down...")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := httpSrv.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("HTTP shutdown", "err", err)
	}
	stopServices()
	wg.Wait()
	fmt.Fprintln(stdout, "Stopped.")
	return nil
}

// connect dials NATS, failing fast when no server answers, and reconnects
// for as long as it takes once connected.
func connect(url, name string) (*nats.Conn, error) {
	nc, err := nats.Connect(url,
		nats.Name(name),
		nats.Timeout(5*time.Second),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
	)
	if err != nil {
		return nil, fmt.Errorf("cannot reach NATS at %s: %w", url, err)
	}
	return nc, nil
}

func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	if tcp.IP.IsUnspecified() {
		return fmt.Sprintf("localhost:%d", tcp.Port)
	}
	return tcp.String()
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

func joinNames(names []string) string {
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}
