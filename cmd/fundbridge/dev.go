package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/fundbridge/fundbridge"

	"github.com/fundbridge/fundbridge/internal/app"
	"github.com/fundbridge/fundbridge/internal/demo"
	"github.com/fundbridge/fundbridge/internal/natsauth"
	"github.com/fundbridge/fundbridge/internal/simclock"
)

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("dev", "fundbridge dev [flags]", stderr)
	dataDir := f.string("data-dir", "./data", "where JetStream keeps the event log")
	httpAddr := f.string("http-addr", ":8080", "HTTP listen address; port 0 picks a free one")
	natsAddr := f.string("nats-addr", "127.0.0.1:4222", "embedded NATS listen address; port 0 picks a free one")
	fsync := f.bool("fsync", true, "fsync every write before acknowledging it (off loses acknowledged writes on power failure)")
	operatorEmail := f.string("operator-email", "operator@fundbridge.local", "email of the first operator account, created on first start")
	operatorPassword := f.string("operator-password", "", "its password; generated and printed once when empty")
	loadDemoMarket := f.bool("demo", false, "load the demo market (idempotent) after starting")
	seed := f.int("seed", 1, "seed of the demo market")
	logFormat := f.string("log-format", "auto", logFormatUsage)
	logLevel := f.string("log-level", "info", "log level: debug, info, warn or error")
	limits := limitFlags(f)
	pprofAddr := f.string("pprof-addr", "", "serve net/http/pprof on this loopback address (e.g. 127.0.0.1:6060); off when empty")
	natsTLS := f.natsTLS("the embedded server")
	if err := f.Parse(args); err != nil {
		return err
	}
	lim, err := limits()
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if f.NArg() > 0 {
		return fmt.Errorf("%w: dev takes no arguments, got %q", errUsage, f.Args())
	}
	log, err := newLogger(*logFormat, *logLevel, stderr)
	if err != nil {
		return err
	}
	if *pprofAddr != "" {
		stopPprof, err := startPprof(*pprofAddr, log)
		if err != nil {
			return err
		}
		defer stopPprof()
	}
	tracing, stopTracing, err := startTracing(ctx, log)
	if err != nil {
		return err
	}
	defer stopTracing()
	opts := app.Options{Tracing: tracing, DataDir: *dataDir, NATSAddr: *natsAddr, HTTPAddr: *httpAddr, Fsync: *fsync, Logger: log, Version: version, Limits: lim, NATSTLS: natsTLS(), AwaitOperator: true}
	// A demo on a new log simulates its history: the product runs on a
	// clock months back until the demo hands it over to the wall clock.
	var clock *simclock.Clock
	if *loadDemoMarket && !app.HasLog(*dataDir) {
		clock = simclock.Starting(time.Now().AddDate(0, 0, -demo.HistoryDays))
		opts.Clock = clock.Now
		defer clock.HandOver()
	}
	a, err := app.Start(ctx, opts)
	if err != nil {
		return err
	}
	durability := "fsync before every acknowledgement"
	if !*fsync {
		durability = "lazy fsync (acknowledged writes can be lost on power failure)"
	}
	fmt.Fprintf(stdout, "Fundbridge %s is running.\n", version)
	fmt.Fprintf(stdout, "  HTTP      http://%s\n", displayAddr(a.HTTPAddr))
	fmt.Fprintf(stdout, "  NATS      %s (no anonymous access; one nkey seed per service in %s)\n", a.NATSURL, absPath(a.Credentials.Dir))
	fmt.Fprintf(stdout, "  admin     nats %s stream ls   (or: nats context save fundbridge %[1]s)\n", natsCLIArgs(a, natsTLS()))
	fmt.Fprintf(stdout, "  data      %s (%s)\n", absPath(*dataDir), durability)
	fmt.Fprintf(stdout, "  services  %s\n", strings.Join(a.Services, ", "))
	operator, err := a.BootstrapOperator(ctx, *operatorEmail, *operatorPassword, stdout)
	if fundbridge.ErrorCode(err) == fundbridge.EINVALID {
		// A product nobody can administer is no use: say what to change.
		a.Close()
		why := fundbridge.ErrorMessage(err)
		for _, f := range fundbridge.ErrorFields(err) {
			why += "; " + f.Field + ": " + f.Reason
		}
		return fmt.Errorf("%w: the operator account %s cannot be created: %s (choose another --operator-password or FUNDBRIDGE_OPERATOR_PASSWORD)", errUsage, *operatorEmail, why)
	}
	if err != nil {
		log.Error("no operator account", "err", err)
	}
	fmt.Fprintf(stdout, "Press Ctrl-C to stop.\n")
	if *loadDemoMarket && err == nil {
		token, err := a.IssueToken(operator.Actor())
		if err != nil {
			a.Close()
			return err
		}
		base := "http://" + displayAddr(a.HTTPAddr)
		cfg := demo.Config{BaseURL: base, OperatorToken: token, Seed: uint64(*seed), Progress: stderr}
		if clock != nil {
			cfg.Clock = clock
		}
		var gone *demo.UserGoneError
		switch err := loadDemo(ctx, cfg, stdout); {
		case errors.As(err, &gone):
			log.Warn("demo market not loaded again", "reason", gone.Error())
		case err != nil:
			log.Error("demo market not loaded", "err", err)
		}
	}
	if clock != nil {
		clock.HandOver()
	}

	select {
	case <-ctx.Done():
	case err := <-a.Err():
		a.Close()
		return fmt.Errorf("HTTP server: %w", err)
	}
	fmt.Fprintln(stdout, "Shutting down...")
	a.Close()
	fmt.Fprintln(stdout, "Stopped.")
	return nil
}

// natsCLIArgs are the nats CLI's flags to connect as the admin.
func natsCLIArgs(a *app.App, tls natsauth.TLSFiles) string {
	args := fmt.Sprintf("--server %s --nkey %s", a.NATSURL, absPath(a.Credentials.File(natsauth.Admin)))
	if tls.CA != "" {
		args += " --tlsca " + absPath(tls.CA)
	}
	return args
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
