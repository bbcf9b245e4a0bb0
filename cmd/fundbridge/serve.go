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
	"go.opentelemetry.io/otel/trace"

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

// serveFlags are serve's flags, read after parsing.
type serveFlags struct {
	natsURL          *string
	replicas         *int
	groupCommit      *bool
	httpAddr         *string
	dataDir          *string
	viewDir          *string
	keyFile          *string
	previousKeyFiles *string
	credKeyFile      *string
	logFormat        *string
	logLevel         *string
	limits           func() (gateway.Limits, error)
	metricsAddr      *string
	pprofAddr        *string
	creds            *string
	natsTLS          func() natsauth.TLSFiles
	storeKind        *string
	kurrentURL       *string
	healthAddr       *string
	operatorEmail    *string
	operatorPassword *string
}

// declareServeFlags adds serve's flags to f.
func declareServeFlags(f *flags) *serveFlags {
	return &serveFlags{
		natsURL:          f.string("nats", "nats://127.0.0.1:4222", "NATS server URLs, comma-separated"),
		replicas:         f.int("replicas", 1, "replicas of the JetStream streams (3 in a cluster)"),
		groupCommit:      f.bool("group-commit", true, "gather concurrent appends into one atomic batch (with fsync-always servers)"),
		httpAddr:         f.string("http-addr", ":8080", "HTTP listen address of the gateway"),
		dataDir:          f.string("data-dir", "./data", "what the views service keeps on local disk (its projections); one process owns it at a time"),
		viewDir:          f.string("views-dir", "", "keep this service's view checkpoints here, so a restart folds only the log's tail (one process per directory); empty: fold the log from 0 at each start"),
		keyFile:          f.string("token-key-file", "./data/gateway/token.key", "the gateway's token signing key (created when missing; share it between gateway instances)"),
		previousKeyFiles: f.string("token-previous-key-files", "", "comma-separated signing keys whose tokens are still accepted (key rotation; see SECURITY.md)"),
		credKeyFile:      f.string("credential-key-file", app.CredentialKeyFile("./data"), "identity's key sealing password hashes (created when missing; share it between identity instances, keep it out of the log's backups)"),
		logFormat:        f.string("log-format", "auto", logFormatUsage),
		logLevel:         f.string("log-level", "info", "log level: debug, info, warn or error"),
		limits:           limitFlags(f),
		metricsAddr:      f.string("metrics-addr", "", "serve Prometheus metrics at /metrics on this address (e.g. :9464); off when empty (the gateway serves them on its HTTP address too)"),
		pprofAddr:        f.string("pprof-addr", "", "serve net/http/pprof on this loopback address (e.g. 127.0.0.1:6060); off when empty"),
		creds:            f.stringEnv("creds", "FUNDBRIDGE_NATS_CREDS", "", "NATS credentials of this service: its nkey seed file (<service>.nk) or a JWT .creds file"),
		natsTLS:          f.natsTLS("this client, if the server asks for one"),
		storeKind:        f.string("store", "jetstream", "event store: jetstream (the NATS cluster) or kurrentdb (--kurrentdb-url); the bus stays NATS either way"),
		kurrentURL:       f.string("kurrentdb-url", "", "KurrentDB connection string (esdb:// or kurrentdb://) for --store kurrentdb"),
		healthAddr:       f.string("health-addr", "", "serve /healthz and /readyz on this address (e.g. :9090) for probes; off when empty (the gateway also answers them on --http-addr)"),
		operatorEmail:    f.string("operator-email", "operator@fundbridge.local", "identity: email of the first operator account, created at start when --operator-password is set"),
		operatorPassword: f.string("operator-password", "", "identity: that account's password (from a secret); readiness waits until the account exists"),
	}
}

// server is one serve process: the gateway or one service, with what
// both need once the flags are read and NATS is connected.
type server struct {
	name    string
	flags   *serveFlags
	limits  gateway.Limits
	log     *slog.Logger
	metrics *telemetry.Metrics
	tracing trace.TracerProvider
	nc      *nats.Conn
	ready   *health.Readiness
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "" || args[0][0] == '-' || isHelp(args[0]) {
		fmt.Fprintf(stderr, "Usage: fundbridge serve <service> [flags]\nServices: %s\n", strings.Join(app.ServiceNames(), ", "))
		if len(args) > 0 && isHelp(args[0]) {
			return nil
		}
		return fmt.Errorf("%w: serve needs a service name", errUsage)
	}
	s := &server{name: args[0], metrics: telemetry.New()}
	f := newFlags("serve", "fundbridge serve <service> [flags]", stderr)
	s.flags = declareServeFlags(f)
	if err := f.Parse(args[1:]); err != nil {
		return err
	}
	var err error
	if s.limits, err = s.flags.limits(); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if s.log, err = newLogger(*s.flags.logFormat, *s.flags.logLevel, stderr); err != nil {
		return err
	}
	stop, err := s.startDiagnostics(ctx)
	if err != nil {
		return err
	}
	defer stop()
	build, ok := app.Builders()[s.name]
	if !ok && s.name != "gateway" {
		return fmt.Errorf("%w: no service %q (services: %s)", errUsage, s.name, strings.Join(app.ServiceNames(), ", "))
	}
	if err := s.connect(ctx); err != nil {
		return err
	}
	defer s.nc.Close()
	if s.name == "gateway" {
		return s.serveGateway(ctx)
	}
	return s.serveService(ctx, build)
}

// startDiagnostics starts tracing and, when their addresses are set, the
// metrics and pprof listeners; stop ends them, last started first.
func (s *server) startDiagnostics(ctx context.Context) (stop func(), err error) {
	var stops []func()
	stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	tracing, stopTracing, err := startTracing(ctx, s.log)
	if err != nil {
		return nil, err
	}
	s.tracing = tracing
	stops = append(stops, stopTracing)
	if *s.flags.metricsAddr != "" {
		stopMetrics, err := startMetrics(*s.flags.metricsAddr, s.metrics, s.log)
		if err != nil {
			stop()
			return nil, err
		}
		stops = append(stops, stopMetrics)
	}
	if *s.flags.pprofAddr != "" {
		stopPprof, err := startPprof(*s.flags.pprofAddr, s.log)
		if err != nil {
			stop()
			return nil, err
		}
		stops = append(stops, stopPprof)
	}
	return stop, nil
}

// connect connects to NATS as this service, and starts the readiness
// checks (served on --health-addr when set) with NATS's among them.
// The caller closes s.nc.
func (s *server) connect(ctx context.Context) error {
	opts, err := natsOptions(s.name, *s.flags.creds, s.flags.natsTLS())
	if err != nil {
		return err
	}
	nc, err := app.Connect(*s.flags.natsURL, "fundbridge-"+s.name, opts...)
	if err != nil {
		return err
	}
	s.nc = nc
	s.ready = health.New()
	s.ready.Live("NATS", func() error {
		if !nc.IsConnected() {
			return fmt.Errorf("not connected to NATS (%s)", nc.Status())
		}
		return nil
	})
	if *s.flags.healthAddr != "" {
		addr, err := health.Serve(ctx, *s.flags.healthAddr, health.Handler(s.ready, version), s.log)
		if err != nil {
			return err
		}
		s.log.Info("health", "addr", displayAddr(addr))
	}
	return nil
}

// serveGateway serves the HTTP API until ctx ends, then shuts the server
// down and drains the idempotency records still being written.
func (s *server) serveGateway(ctx context.Context) error {
	s.metrics.WatchNATS(s.nc, s.name) // a service's is watched with the rest of it (app.Observe)
	ln, err := net.Listen("tcp", *s.flags.httpAddr)
	if err != nil {
		return fmt.Errorf("HTTP on %s: %w", *s.flags.httpAddr, err)
	}
	tokens, err := s.gatewayTokens()
	if err != nil {
		return err
	}
	idem, err := gateway.OpenIdempotency(ctx, s.nc, *s.flags.replicas)
	if err != nil {
		return err
	}
	revoked, err := gateway.OpenRevocations(ctx, s.nc, *s.flags.replicas, s.log)
	if err != nil {
		return err
	}
	defer revoked.Close()
	srv := gateway.NewServer(gateway.New(s.nc, gateway.WithTokens(tokens), gateway.WithLogger(s.log), gateway.WithVersion(version), gateway.WithLimits(s.limits), gateway.WithIdempotency(idem), gateway.WithRevocations(revoked), gateway.WithReady(s.ready.Ready), gateway.WithMetrics(s.metrics), gateway.WithTracing(s.tracing)).Handler(), gateway.ServerTimeouts{})
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("gateway listening", "http", displayAddr(ln.Addr()), "nats", s.nc.ConnectedUrlRedacted())
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

// gatewayTokens issues tokens with the signing key (created when missing)
// and still accepts those of the previous keys.
func (s *server) gatewayTokens() (*gateway.Tokens, error) {
	key, err := gateway.LoadOrCreateKey(*s.flags.keyFile)
	if err != nil {
		return nil, err
	}
	previous, err := gateway.LoadPreviousKeys(strings.Split(*s.flags.previousKeyFiles, ",")...)
	if err != nil {
		return nil, err
	}
	return gateway.NewTokens(key, 0, previous...)
}

// serveService opens the event store, builds the service and runs it
// until ctx ends; it is ready once its views reflect the log's head at
// start.
func (s *server) serveService(ctx context.Context, build func(app.Deps) app.Component) error {
	reg := app.NewRegistry()
	store, err := openStore(ctx, *s.flags.storeKind, *s.flags.kurrentURL, s.nc, reg, jetstream.Options{Replicas: *s.flags.replicas, GroupCommit: *s.flags.groupCommit, Observe: s.metrics.StoreObserver(), Tracing: s.tracing})
	if err != nil {
		return err
	}
	defer store.Close()
	snaps, err := jetstream.OpenSnapshots(ctx, s.nc, *s.flags.replicas)
	if err != nil {
		return err
	}
	deps := app.Deps{Store: store, Snapshots: snaps, Registry: reg, NC: s.nc, Log: s.log, Metrics: s.metrics}
	if s.name == identity.Name {
		if deps.CredentialKey, err = keyfile.LoadOrCreate(*s.flags.credKeyFile, identity.CredentialKeySize); err != nil {
			return fmt.Errorf("identity's credential key: %w", err)
		}
	}
	release, err := s.lockLocalDir(&deps)
	if err != nil {
		return err
	}
	defer release()
	head, err := store.Head(ctx) // ready once the views reflect it
	if err != nil {
		return err
	}
	c := build(deps)
	app.Observe(s.metrics, s.name, deps, &c)
	if c.Position != nil {
		s.ready.CaughtUp(s.name, head, c.Position)
		c.CaughtUpFirst(head)
	}
	if s.name == identity.Name && *s.flags.operatorPassword != "" {
		go bootstrapOperator(ctx, s.nc, *s.flags.operatorEmail, *s.flags.operatorPassword, s.ready.Pending("the operator account"), s.log)
	}
	c.Service.Serving = s.ready.Pending(s.name + " joining its queue group")
	s.log.Info("serving", "service", s.name, "nats", s.nc.ConnectedUrlRedacted(), "log_head_at_start", head)
	c.Service.Tracing = s.tracing
	return app.RunComponent(ctx, s.nc, c, s.log)
}

// lockLocalDir takes the directory this service keeps on local disk, if
// any, into deps: the views service's data directory (its projections),
// or another's view checkpoints (--views-dir). One process owns each.
func (s *server) lockLocalDir(deps *app.Deps) (release func(), err error) {
	dir, into := *s.flags.viewDir, &deps.ViewDir
	if s.name == views.Name { // the one service with state on local disk
		dir, into = *s.flags.dataDir, &deps.DataDir
	} else if dir == "" {
		return func() {}, nil
	}
	lock, err := datadir.Acquire(dir, datadir.Self())
	if err != nil {
		return nil, err
	}
	*into = lock.Dir()
	return func() { lock.Release() }, nil
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
