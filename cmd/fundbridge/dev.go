package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/fundbridge/fundbridge"

	"github.com/fundbridge/fundbridge/internal/app"
	"github.com/fundbridge/fundbridge/internal/demo"
	"github.com/fundbridge/fundbridge/internal/natsauth"
	"github.com/fundbridge/fundbridge/internal/simclock"
	"github.com/fundbridge/fundbridge/services/gateway"
	"github.com/fundbridge/fundbridge/services/identity/identityapi"
)

// devFlags are dev's flags, read after parsing.
type devFlags struct {
	dataDir          *string
	httpAddr         *string
	natsAddr         *string
	fsync            *bool
	operatorEmail    *string
	operatorPassword *string
	loadDemoMarket   *bool
	seed             *int
	logFormat        *string
	logLevel         *string
	limits           func() (gateway.Limits, error)
	pprofAddr        *string
	natsTLS          func() natsauth.TLSFiles
}

// declareDevFlags adds dev's flags to f.
func declareDevFlags(f *flags) *devFlags {
	return &devFlags{
		dataDir:          f.string("data-dir", "./data", "where JetStream keeps the event log"),
		httpAddr:         f.string("http-addr", ":8080", "HTTP listen address; port 0 picks a free one"),
		natsAddr:         f.string("nats-addr", "127.0.0.1:4222", "embedded NATS listen address; port 0 picks a free one"),
		fsync:            f.bool("fsync", true, "fsync every write before acknowledging it (off loses acknowledged writes on power failure)"),
		operatorEmail:    f.string("operator-email", "operator@fundbridge.local", "email of the first operator account, created on first start"),
		operatorPassword: f.string("operator-password", "", "its password; generated and printed once when empty"),
		loadDemoMarket:   f.bool("demo", false, "load the demo market (idempotent) after starting"),
		seed:             f.int("seed", 1, "seed of the demo market"),
		logFormat:        f.string("log-format", "auto", logFormatUsage),
		logLevel:         f.string("log-level", "info", "log level: debug, info, warn or error"),
		limits:           limitFlags(f),
		pprofAddr:        f.string("pprof-addr", "", "serve net/http/pprof on this loopback address (e.g. 127.0.0.1:6060); off when empty"),
		natsTLS:          f.natsTLS("the embedded server"),
	}
}

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("dev", "fundbridge dev [flags]", stderr)
	fl := declareDevFlags(f)
	if err := f.Parse(args); err != nil {
		return err
	}
	lim, err := fl.limits()
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if f.NArg() > 0 {
		return fmt.Errorf("%w: dev takes no arguments, got %q", errUsage, f.Args())
	}
	log, err := newLogger(*fl.logFormat, *fl.logLevel, stderr)
	if err != nil {
		return err
	}
	if *fl.pprofAddr != "" {
		stopPprof, err := startPprof(*fl.pprofAddr, log)
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
	opts := app.Options{Tracing: tracing, DataDir: *fl.dataDir, NATSAddr: *fl.natsAddr, HTTPAddr: *fl.httpAddr, Fsync: *fl.fsync, Logger: log, Version: version, Limits: lim, NATSTLS: fl.natsTLS(), AwaitOperator: true}
	// A demo on a new log simulates its history: the product runs on a
	// clock months back until the demo hands it over to the wall clock.
	var clock *simclock.Clock
	if *fl.loadDemoMarket && !app.HasLog(*fl.dataDir) {
		clock = simclock.Starting(time.Now().AddDate(0, 0, -demo.HistoryDays))
		opts.Clock = clock.Now
		defer clock.HandOver()
	}
	a, err := app.Start(ctx, opts)
	if err != nil {
		return err
	}
	printDevBanner(stdout, a, *fl.dataDir, *fl.fsync, fl.natsTLS())
	operator, err := a.BootstrapOperator(ctx, *fl.operatorEmail, *fl.operatorPassword, stdout)
	if fundbridge.ErrorCode(err) == fundbridge.EINVALID {
		// A product nobody can administer is no use: say what to change.
		a.Close()
		return operatorRefused(*fl.operatorEmail, err)
	}
	if err != nil {
		log.Error("no operator account", "err", err)
	}
	fmt.Fprintf(stdout, "Press Ctrl-C to stop.\n")
	if *fl.loadDemoMarket && err == nil {
		cfg := demo.Config{Seed: uint64(*fl.seed), Progress: stderr}
		if clock != nil {
			cfg.Clock = clock
		}
		if err := loadDevDemo(ctx, a, operator, cfg, stdout, log); err != nil {
			a.Close()
			return err
		}
	}
	if clock != nil {
		clock.HandOver()
	}
	return runUntilStopped(ctx, a, stdout)
}

// printDevBanner says where the running product is and how to reach it.
func printDevBanner(stdout io.Writer, a *app.App, dataDir string, fsync bool, tls natsauth.TLSFiles) {
	durability := "fsync before every acknowledgement"
	if !fsync {
		durability = "lazy fsync (acknowledged writes can be lost on power failure)"
	}
	fmt.Fprintf(stdout, "Fundbridge %s is running.\n", version)
	fmt.Fprintf(stdout, "  HTTP      http://%s\n", displayAddr(a.HTTPAddr))
	fmt.Fprintf(stdout, "  NATS      %s (no anonymous access; one nkey seed per service in %s)\n", a.NATSURL, absPath(a.Credentials.Dir))
	fmt.Fprintf(stdout, "  admin     nats %s stream ls   (or: nats context save fundbridge %[1]s)\n", natsCLIArgs(a, tls))
	fmt.Fprintf(stdout, "  data      %s (%s)\n", absPath(dataDir), durability)
	fmt.Fprintf(stdout, "  services  %s\n", strings.Join(a.Services, ", "))
}

// operatorRefused is the usage error for an operator account the product
// refuses to create, naming each rule it broke.
func operatorRefused(email string, err error) error {
	why := fundbridge.ErrorMessage(err)
	for _, f := range fundbridge.ErrorFields(err) {
		why += "; " + f.Field + ": " + f.Reason
	}
	return fmt.Errorf("%w: the operator account %s cannot be created: %s (choose another --operator-password or FUNDBRIDGE_OPERATOR_PASSWORD)", errUsage, email, why)
}

// loadDevDemo loads the demo market as the operator through the running
// product's HTTP API. A demo that does not load is logged, not fatal: the
// product runs on; only a token that cannot be issued is an error.
func loadDevDemo(ctx context.Context, a *app.App, operator identityapi.User, cfg demo.Config, stdout io.Writer, log *slog.Logger) error {
	token, err := a.IssueToken(operator.Actor())
	if err != nil {
		return err
	}
	cfg.BaseURL = "http://" + displayAddr(a.HTTPAddr)
	cfg.OperatorToken = token
	var gone *demo.UserGoneError
	switch err := loadDemo(ctx, cfg, stdout); {
	case errors.As(err, &gone):
		log.Warn("demo market not loaded again", "reason", gone.Error())
	case err != nil:
		log.Error("demo market not loaded", "err", err)
	}
	return nil
}

// runUntilStopped runs the product until ctx ends (Ctrl-C) or its HTTP
// server fails, then closes it.
func runUntilStopped(ctx context.Context, a *app.App, stdout io.Writer) error {
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
