package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/jetstream"
	"github.com/fundbridge/fundbridge/events/kurrentdb"
	"github.com/fundbridge/fundbridge/internal/app"
	"github.com/fundbridge/fundbridge/internal/datadir"
	"github.com/fundbridge/fundbridge/internal/health"
	"github.com/fundbridge/fundbridge/internal/keyfile"
	"github.com/fundbridge/fundbridge/internal/natsauth"
	"github.com/fundbridge/fundbridge/internal/telemetry"
	"github.com/fundbridge/fundbridge/services/gateway"
	"github.com/fundbridge/fundbridge/services/identity"
	"github.com/fundbridge/fundbridge/services/views"
)

// natsOptions are the connection's credentials and TLS.
func natsOptions(user, creds string, tls natsauth.TLSFiles) ([]nats.Option, error) {
	var opts []nats.Option
	if creds != "" {
		o, err := natsauth.ClientOptions(creds, user)
		if err != nil {
			return nil, err
		}
		opts = append(opts, o...)
	}
	t, err := tls.ClientOptions()
	return append(opts, t...), err
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "" || args[0][0] == '-' || isHelp(args[0]) {
		fmt.Fprintf(stderr, "Usage: fundbridge serve <service> [flags]\nServices: %s\n", strings.Join(app.ServiceNames(), ", "))
		if len(args) > 0 && isHelp(args[0]) {
			return nil
		}
		return fmt.Errorf("%w: serve needs a service name", errUsage)
	}
	name := args[0]
	f := newFlags("serve", "fundbridge serve <service> [flags]", stderr)
	natsURL := f.string("nats", "nats://127.0.0.1:4222", "NATS server URLs, comma-separated")
	replicas := f.int("replicas", 1, "replicas of the JetStream streams (3 in a cluster)")
	groupCommit := f.bool("group-commit", true, "gather concurrent appends into one atomic batch (with fsync-always servers)")
	httpAddr := f.string("http-addr", ":8080", "HTTP listen address of the gateway")
	dataDir := f.string("data-dir", "./data", "what the views service keeps on local disk (its projections); one process owns it at a time")
	viewDir := f.string("views-dir", "", "keep this service's view checkpoints here, so a restart folds only the log's tail (one process per directory); empty: fold the log from 0 at each start")
	keyFile := f.string("token-key-file", "./data/gateway/token.key", "the gateway's token signing key (created when missing; share it between gateway instances)")
	previousKeyFiles := f.string("token-previous-key-files", "", "comma-separated signing keys whose tokens are still accepted (key rotation; see SECURITY.md)")
	credKeyFile := f.string("credential-key-file", app.CredentialKeyFile("./data"), "identity's key sealing password hashes (created when missing; share it between identity instances, keep it out of the log's backups)")
	logFormat := f.string("log-format", "auto", logFormatUsage)
	logLevel := f.string("log-level", "info", "log level: debug, info, warn or error")
	limits := limitFlags(f)
	metricsAddr := f.string("metrics-addr", "", "serve Prometheus metrics at /metrics on this address (e.g. :9464); off when empty (the gateway serves them on its HTTP address too)")
	pprofAddr := f.string("pprof-addr", "", "serve net/http/pprof on this loopback address (e.g. 127.0.0.1:6060); off when empty")
	creds := f.stringEnv("creds", "FUNDBRIDGE_NATS_CREDS", "", "NATS credentials of this service: its nkey seed file (<service>.nk) or a JWT .creds file")
	natsTLS := f.natsTLS("this client, if the server asks for one")
	storeKind := f.string("store", "jetstream", "event store: jetstream (the NATS cluster) or kurrentdb (--kurrentdb-url); the bus stays NATS either way")
	kurrentURL := f.string("kurrentdb-url", "", "KurrentDB connection string (esdb:// or kurrentdb://) for --store kurrentdb")
	healthAddr := f.string("health-addr", "", "serve /healthz and /readyz on this address (e.g. :9090) for probes; off when empty (the gateway also answers them on --http-addr)")
	operatorEmail := f.string("operator-email", "operator@fundbridge.local", "identity: email of the first operator account, created at start when --operator-password is set")
	operatorPassword := f.string("operator-password", "", "identity: that account's password (from a secret); readiness waits until the account exists")
	if err := f.Parse(args[1:]); err != nil {
		return err
	}
	lim, err := limits()
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	log, err := newLogger(*logFormat, *logLevel, stderr)
	if err != nil {
		return err
	}
	metrics := telemetry.New()
	tracing, stopTracing, err := startTracing(ctx, log)
	if err != nil {
		return err
	}
	defer stopTracing()
	if *metricsAddr != "" {
		stopMetrics, err := startMetrics(*metricsAddr, metrics, log)
		if err != nil {
			return err
		}
		defer stopMetrics()
	}
	if *pprofAddr != "" {
		stopPprof, err := startPprof(*pprofAddr, log)
		if err != nil {
			return err
		}
		defer stopPprof()
	}
	build, ok := app.Builders()[name]
	if !ok && name != "gateway" {
		return fmt.Errorf("%w: no service %q (services: %s)", errUsage, name, strings.Join(app.ServiceNames(), ", "))
	}
	opts, err := natsOptions(name, *creds, natsTLS())
	if err != nil {
		return err
	}
	nc, err := app.Connect(*natsURL, "fundbridge-"+name, opts...)
	if err != nil {
		return err
	}
	defer nc.Close()
	ready := health.New()
	ready.Live("NATS", func() error {
		if !nc.IsConnected() {
			return fmt.Errorf("not connected to NATS (%s)", nc.Status())
		}
		return nil
	})
	if *healthAddr != "" {
		addr, err := health.Serve(ctx, *healthAddr, health.Handler(ready, version), log)
		if err != nil {
			return err
		}
		log.Info("health", "addr", displayAddr(addr))
	}

	if name == "gateway" {
		metrics.WatchNATS(nc, name) // a service's is watched with the rest of it (app.Observe)
		ln, err := net.Listen("tcp", *httpAddr)
		if err != nil {
			return fmt.Errorf("HTTP on %s: %w", *httpAddr, err)
		}
		key, err := gateway.LoadOrCreateKey(*keyFile)
		if err != nil {
			return err
		}
		previous, err := gateway.LoadPreviousKeys(strings.Split(*previousKeyFiles, ",")...)
		if err != nil {
			return err
		}
		tokens, err := gateway.NewTokens(key, 0, previous...)
		if err != nil {
			return err
		}
		idem, err := gateway.OpenIdempotency(ctx, nc, *replicas)
		if err != nil {
			return err
		}
		revoked, err := gateway.OpenRevocations(ctx, nc, *replicas, log)
		if err != nil {
			return err
		}
		defer revoked.Close()
		srv := gateway.NewServer(gateway.New(nc, gateway.WithTokens(tokens), gateway.WithLogger(log), gateway.WithVersion(version), gateway.WithLimits(lim), gateway.WithIdempotency(idem), gateway.WithRevocations(revoked), gateway.WithReady(ready.Ready), gateway.WithMetrics(metrics), gateway.WithTracing(tracing)).Handler(), gateway.ServerTimeouts{})
		errc := make(chan error, 1)
		go func() { errc <- srv.Serve(ln) }()
		log.Info("gateway listening", "http", displayAddr(ln.Addr()), "nats", nc.ConnectedUrlRedacted())
		select {
		case err := <-errc:
			return fmt.Errorf("HTTP server: %w", err)
		case <-ctx.Done():
		}
		shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return idem.Drain(shutCtx)
	}

	reg := app.NewRegistry()
	store, err := openStore(ctx, *storeKind, *kurrentURL, nc, reg, jetstream.Options{Replicas: *replicas, GroupCommit: *groupCommit, Observe: metrics.StoreObserver(), Tracing: tracing})
	if err != nil {
		return err
	}
	defer store.Close()
	snaps, err := jetstream.OpenSnapshots(ctx, nc, *replicas)
	if err != nil {
		return err
	}
	deps := app.Deps{Store: store, Snapshots: snaps, Registry: reg, NC: nc, Log: log, Metrics: metrics}
	if name == identity.Name {
		if deps.CredentialKey, err = keyfile.LoadOrCreate(*credKeyFile, identity.CredentialKeySize); err != nil {
			return fmt.Errorf("identity's credential key: %w", err)
		}
	}
	if name == views.Name { // the one service with state on local disk
		lock, err := datadir.Acquire(*dataDir, datadir.Self())
		if err != nil {
			return err
		}
		defer lock.Release()
		deps.DataDir = lock.Dir()
	}
	if *viewDir != "" && name != views.Name {
		lock, err := datadir.Acquire(*viewDir, datadir.Self())
		if err != nil {
			return err
		}
		defer lock.Release()
		deps.ViewDir = lock.Dir()
	}
	head, err := store.Head(ctx) // ready once the views reflect it
	if err != nil {
		return err
	}
	c := build(deps)
	app.Observe(metrics, name, deps, &c)
	if c.Position != nil {
		ready.CaughtUp(name, head, c.Position)
		c.CaughtUpFirst(head)
	}
	if name == identity.Name && *operatorPassword != "" {
		go bootstrapOperator(ctx, nc, *operatorEmail, *operatorPassword, ready.Pending("the operator account"), log)
	}
	c.Service.Serving = ready.Pending(name + " joining its queue group")
	log.Info("serving", "service", name, "nats", nc.ConnectedUrlRedacted(), "log_head_at_start", head)
	c.Service.Tracing = tracing
	return app.RunComponent(ctx, nc, c, log)
}

// openStore opens the event store the flags name.
func openStore(ctx context.Context, kind, kurrentURL string, nc *nats.Conn, reg *events.Registry, o jetstream.Options) (events.Store, error) {
	switch kind {
	case "jetstream":
		return jetstream.Open(ctx, nc, reg, o)
	case "kurrentdb":
		if kurrentURL == "" {
			return nil, fmt.Errorf("%w: --store kurrentdb needs --kurrentdb-url (FUNDBRIDGE_KURRENTDB_URL)", errUsage)
		}
		return kurrentdb.Open(ctx, kurrentURL, reg)
	}
	return nil, fmt.Errorf("%w: --store %q: want jetstream or kurrentdb", errUsage, kind)
}

// bootstrapOperator creates the first operator through identity (this
// instance or another: each tries, the account's fixed IDs make one of
// them create it) and then marks the start-up work done.
func bootstrapOperator(ctx context.Context, nc *nats.Conn, email, password string, done func(), log *slog.Logger) {
	for ctx.Err() == nil {
		res, err := app.BootstrapOperatorAs(ctx, nc, identity.Name, email, password)
		if err == nil {
			log.Info("operator account", "email", res.User.Email, "created", res.Created)
			done()
			return
		}
		if ctx.Err() == nil {
			log.Error("operator account not bootstrapped; trying again", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(2 * time.Second):
			}
		}
	}
}
