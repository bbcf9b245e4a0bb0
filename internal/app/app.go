// Package app assembles the product: the event store, every service and
// the gateway, in one process on one NATS server. fundbridge dev runs it;
// the black-box tests start it exactly the same way.
package app

import (
	"context"
	"errors"
	"fmt"
	"go.opentelemetry.io/otel/trace"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/jetstream"
	"github.com/fundbridge/fundbridge/internal/datadir"
	"github.com/fundbridge/fundbridge/internal/health"
	"github.com/fundbridge/fundbridge/internal/keyfile"
	"github.com/fundbridge/fundbridge/internal/natsauth"
	"github.com/fundbridge/fundbridge/internal/natsserver"
	"github.com/fundbridge/fundbridge/internal/telemetry"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/services/applications"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/audit"
	"github.com/fundbridge/fundbridge/services/deals"
	"github.com/fundbridge/fundbridge/services/deals/dealsapi"
	"github.com/fundbridge/fundbridge/services/funds"
	"github.com/fundbridge/fundbridge/services/funds/fundsapi"
	"github.com/fundbridge/fundbridge/services/gateway"
	"github.com/fundbridge/fundbridge/services/identity"
	"github.com/fundbridge/fundbridge/services/identity/identityapi"
	"github.com/fundbridge/fundbridge/services/insurance"
	"github.com/fundbridge/fundbridge/services/insurance/insuranceapi"
	"github.com/fundbridge/fundbridge/services/matching"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
	"github.com/fundbridge/fundbridge/services/svc"
	"github.com/fundbridge/fundbridge/services/views"
)

// Deps is what services are built from. NC is the service's own NATS
// connection, for the requests it sends to other services.
type Deps struct {
	Store      events.Store // JetStream, or KurrentDB (serve --store kurrentdb)
	Snapshots  *jetstream.Snapshots
	Registry   *events.Registry
	NC         *nats.Conn
	Log        *slog.Logger
	BcryptCost int
	// DataDir holds what a service keeps on local disk (the views'
	// projection snapshots).
	DataDir string
	// CredentialKey is identity's key for sealing password hashes; see
	// CredentialKeyFile.
	CredentialKey []byte
	// Clock, if set, is the product's time (Options.Clock); nil is the
	// wall clock.
	Clock func() time.Time
	// ViewDir keeps the services' view checkpoints (viewstate), so a
	// restart folds only the log's tail; "" folds from 0 each start.
	ViewDir string
	// Metrics, if set, are the process's: the service's requests, appends
	// and lag are recorded there.
	Metrics *telemetry.Metrics
}

// viewDir is where the services keep their view checkpoints under the
// data directory, or "" when they are off.
func viewDir(o Options) string {
	if o.NoViewCheckpoints {
		return ""
	}
	return filepath.Join(o.DataDir, "views")
}

// CredentialKeyFile is where identity's credential key lives under a
// data directory: readable by its owner only, never in the log.
func CredentialKeyFile(dataDir string) string {
	return filepath.Join(dataDir, "identity", "credential.key")
}

// Component is a service as the binary runs it: its operations on the
// bus and, for services with read models or reactors, what runs beside.
type Component struct {
	Service svc.Service
	Run     func(ctx context.Context) error // nil if nothing runs beside
	// Position is the log position the service's views reflect, for
	// readiness; nil if it keeps none.
	Position func() uint64
	// ServeFrom, with Position, holds the operations back until the views
	// reflect this position (the log's head at start): NATS queue groups
	// do not ask /readyz, and an instance restarted among others must not
	// answer from views still catching up.
	ServeFrom uint64
	// Projections, if the service has any, reports how they stand (their
	// lag is a metric).
	Projections func() []projections.Status
	// Local, if set, is offered the service's operations while it serves,
	// for a gateway in the same process to call without NATS.
	Local *gateway.LocalServices
}

// CaughtUpFirst sets ServeFrom to head, except for the views service,
// whose queries wait per projection (?after=) and which must answer its
// status and rebuild even while a projection is behind or stopped.
func (c *Component) CaughtUpFirst(head uint64) {
	if c.Service.Name != views.Name {
		c.ServeFrom = head
	}
}

// Builders lists every service of the product but the gateway.
func Builders() map[string]func(Deps) Component {
	return map[string]func(Deps) Component{
		audit.Name: func(d Deps) Component { return Component{Service: audit.Service(d.Store)} },
		applications.Name: func(d Deps) Component {
			s := applications.New(d.Store, d.Registry, applications.WithSnapshots(d.Snapshots), applications.WithCheckpoints(d.ViewDir), applications.WithLogger(d.Log))
			return Component{Service: s.Runtime(), Run: s.Run, Position: s.Position}
		},
		matching.Name: func(d Deps) Component {
			// The closing process's manager runs in this component.
			s := matching.New(d.Store, d.Registry, matching.WithClient(svc.NewSystemClient(d.NC, matching.Name, 0)), matching.WithClosingProcess(d.NC), matching.WithCheckpoints(d.ViewDir), matching.WithLogger(d.Log))
			return Component{Service: s.Runtime(), Run: s.Run, Position: s.Position}
		},
		views.Name: func(d Deps) Component {
			opts := []views.Option{views.WithLogger(d.Log)}
			if d.Clock != nil {
				opts = append(opts, views.WithClock(d.Clock))
			}
			s := views.New(d.Store, d.Registry, filepath.Join(d.DataDir, "projections"), opts...)
			return Component{Service: s.Runtime(), Run: s.Run, Position: s.Position, Projections: s.Status}
		},
		funds.Name: func(d Deps) Component {
			s := funds.New(d.Store, d.Registry, funds.WithSnapshots(d.Snapshots), funds.WithCheckpoints(d.ViewDir), funds.WithLogger(d.Log))
			return Component{Service: s.Runtime(), Run: s.Run, Position: s.Position}
		},
		deals.Name: func(d Deps) Component {
			// The syndication and arrears processes' managers run in this component.
			opts := []deals.Option{deals.WithSnapshots(d.Snapshots), deals.WithCheckpoints(d.ViewDir), deals.WithClient(svc.NewSystemClient(d.NC, deals.Name, 0)), deals.WithProcesses(d.NC), deals.WithLogger(d.Log)}
			if d.Clock != nil {
				opts = append(opts, deals.WithClock(d.Clock))
			}
			s := deals.New(d.Store, d.Registry, opts...)
			return Component{Service: s.Runtime(), Run: s.Run, Position: s.Position}
		},
		insurance.Name: func(d Deps) Component {
			// The policy process's manager (deadlines, guarantee claims) runs in this component.
			opts := []insurance.Option{insurance.WithSnapshots(d.Snapshots), insurance.WithClient(svc.NewSystemClient(d.NC, insurance.Name, 0)),
				insurance.WithProcess(d.NC, insurance.ProcessOptions{}), insurance.WithCheckpoints(d.ViewDir), insurance.WithLogger(d.Log)}
			if d.Clock != nil {
				opts = append(opts, insurance.WithClock(d.Clock))
			}
			s := insurance.New(d.Store, d.Registry, opts...)
			return Component{Service: s.Runtime(), Run: s.Run, Position: s.Position}
		},
		identity.Name: func(d Deps) Component {
			s := identity.New(d.Store, d.Registry, svc.NewSystemClient(d.NC, identity.Name, 0), identity.WithBcryptCost(d.BcryptCost), identity.WithCredentialKey(d.CredentialKey), identity.WithPersonKeys(identity.NewKVPersonKeys(d.NC)), identity.WithCheckpoints(d.ViewDir), identity.WithLogger(d.Log))
			return Component{Service: s.Runtime(), Run: s.Run, Position: s.Position}
		},
	}
}

// Contracts lists, for each service that appends events, what registers
// the event types it writes: those types belong in its aggregates'
// streams (Aggregates) and nowhere else.
func Contracts() map[string][]func(*events.Registry) {
	return map[string][]func(*events.Registry){
		identity.Name:     {identityapi.Register},
		applications.Name: {applicationsapi.Register},
		funds.Name:        {fundsapi.Register},
		matching.Name:     {matchingapi.Register, matching.RegisterClosing},
		deals.Name:        {dealsapi.Register, deals.RegisterProcesses},
		insurance.Name:    {insuranceapi.Register, insurance.RegisterProcess},
	}
}

// NewRegistry registers every event type of the product, each with its
// home: the aggregate types of the service that writes it. A service's
// NATS user may publish only on its own aggregates' subjects; the homes
// stop it filing another service's events there (a stolen funds key
// writing application.funded into a fund stream is quarantined, not
// counted).
func NewRegistry() *events.Registry {
	r := events.NewRegistry()
	identityapi.Register(r)
	applicationsapi.Register(r)
	fundsapi.Register(r)
	matchingapi.Register(r)
	dealsapi.Register(r)
	matching.RegisterClosing(r)
	deals.RegisterProcesses(r)
	insuranceapi.Register(r)
	insurance.RegisterProcess(r)
	aggregates := Aggregates()
	for service, registers := range Contracts() {
		own := events.NewRegistry()
		for _, register := range registers {
			register(own)
		}
		r.Home(aggregates[service], own.Names())
	}
	return r
}

// ServiceNames lists the services, the gateway included, sorted.
func ServiceNames() []string {
	names := []string{"gateway"}
	for n := range Builders() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// RunComponent serves a component's operations and runs what runs beside
// them until ctx ends; then it drains.
func RunComponent(ctx context.Context, nc *nats.Conn, c Component, log *slog.Logger) error {
	c.Service.Logger = log
	c.Service.Gateway = natsauth.Gateway // the gateway's own system actor (services/gateway.gatewayActor)
	errc := make(chan error, 2)
	n := 1
	go func() {
		for c.Position != nil && c.Position() < c.ServeFrom {
			select {
			case <-ctx.Done():
				errc <- nil
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
		if c.Local != nil && ctx.Err() == nil {
			defer c.Local.Add(c.Service)()
		}
		errc <- svc.Serve(ctx, nc, c.Service)
	}()
	if c.Run != nil {
		n++
		go func() {
			if err := c.Run(ctx); err != nil && ctx.Err() == nil {
				log.Error("stopped", "service", c.Service.Name, "err", err)
			}
			errc <- nil
		}()
	}
	var first error
	for range n {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Connect dials NATS, failing fast when no server answers, and reconnects
// for as long as it takes once connected. opts add credentials and TLS.
func Connect(url, name string, opts ...nats.Option) (*nats.Conn, error) {
	nc, err := nats.Connect(url, append([]nats.Option{
		nats.Name(name),
		nats.Timeout(5 * time.Second),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
	}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("cannot reach NATS at %s: %w", url, err)
	}
	return nc, nil
}

// Options configure a whole-product process.
type Options struct {
	DataDir  string
	NATSAddr string // port 0 picks a free one
	HTTPAddr string // port 0 picks a free one
	Fsync    bool
	Logger   *slog.Logger
	Version  string
	// BcryptCost lowers the password work factor in tests; 0 is the default.
	BcryptCost int
	// Limits are the gateway's abuse limits; zero fields take the defaults.
	Limits gateway.Limits
	// HTTPTimeouts bound each HTTP connection; zero fields take the defaults.
	HTTPTimeouts gateway.ServerTimeouts
	// NATSTLS, when set, serves NATS over TLS: the server's certificate
	// and key, and the CA the in-process clients trust.
	NATSTLS natsauth.TLSFiles
	// Clock, if set, is the product's time: what events record, what the
	// deals, insurance and views services decide and answer by, and what
	// their processes' deadlines fall due by (dev --demo simulates its
	// history on an internal/simclock clock; tests move it). Nil is the
	// wall clock. Sign-in tokens, rate limits and idempotency records keep
	// the wall clock.
	Clock func() time.Time
	// AwaitOperator keeps /readyz at 503 until BootstrapOperator is done.
	AwaitOperator bool
	// NoViewCheckpoints folds every service's views from position 0 at
	// each start instead of resuming from <data>/views (to measure).
	NoViewCheckpoints bool
	// Metrics are the process's, served on the gateway's /metrics; nil
	// makes new ones.
	Metrics *telemetry.Metrics
	// Tracing, if set, traces requests from the gateway through the
	// services to the store; nil traces nothing.
	Tracing trace.TracerProvider
}

// App is the running product.
type App struct {
	NATSURL  string
	HTTPAddr net.Addr
	Services []string
	// Store is on the admin's connection, which created the streams; each
	// service appends through its own store, on its own connection.
	Store *jetstream.Store
	// Credentials are the NATS users' seeds, in the data directory.
	Credentials *natsauth.Credentials
	// Metrics are the whole process's, served on the gateway's /metrics.
	Metrics *telemetry.Metrics

	lock     *datadir.Lock // one owner per data directory
	srv      *natsserver.Server
	conns    []*nats.Conn
	stores   []*jetstream.Store
	natsTLS  natsauth.TLSFiles
	http     *http.Server
	idem     *gateway.Idempotency // its records are written after the answers: drained at Close
	revoked  *gateway.Revocations
	httpErr  chan error
	tokens   *gateway.Tokens
	stop     context.CancelFunc
	services sync.WaitGroup
	log      *slog.Logger
	ready    *health.Readiness
	operator func() // marks the operator's bootstrap done
	tracing  trace.TracerProvider
}

// Start starts the embedded NATS server, the store, every service (each on
// its own connection, as in a cluster) and the gateway.
func Start(ctx context.Context, o Options) (_ *App, err error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Metrics == nil {
		o.Metrics = telemetry.New()
	}
	a := &App{log: o.Logger, httpErr: make(chan error, 1), natsTLS: natsauth.TLSFiles{CA: o.NATSTLS.CA}, ready: health.New(), operator: func() {}, Metrics: o.Metrics, tracing: o.Tracing}
	if o.AwaitOperator {
		a.operator = a.ready.Pending("the operator account")
	}
	defer func() {
		if err != nil {
			a.Close() // what started so far
		}
	}()
	if err := a.startNATS(o); err != nil {
		return nil, err
	}
	reg, head, err := a.openLog(ctx, o)
	if err != nil {
		return nil, err
	}
	local := gateway.NewLocalServices() // the gateway below calls these services without NATS
	if err := a.startServices(ctx, o, reg, head, local); err != nil {
		return nil, err
	}
	a.Services = ServiceNames()
	if err := a.startGateway(ctx, o, local); err != nil {
		return nil, err
	}
	return a, nil
}

// startNATS takes the data directory and starts the embedded NATS server
// in it, with one user per service.
func (a *App) startNATS(o Options) (err error) {
	if a.lock, err = datadir.Acquire(o.DataDir, datadir.Self()); err != nil {
		return err
	}
	natsDir := filepath.Join(o.DataDir, "nats")
	if err := os.MkdirAll(natsDir, 0o750); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	creds, users, err := NATSUsers(CredentialsDir(o.DataDir))
	if err != nil {
		return err
	}
	a.Credentials = creds
	srvOpts := natsserver.Options{Addr: o.NATSAddr, DataDir: natsDir, SyncAlways: o.Fsync, Name: "fundbridge-dev", Users: users}
	if o.NATSTLS.Enabled() {
		if srvOpts.TLS, err = o.NATSTLS.ServerConfig(); err != nil {
			return err
		}
	}
	a.srv, err = natsserver.Start(srvOpts)
	if err != nil {
		return fmt.Errorf("embedded NATS on %s: %w", o.NATSAddr, err)
	}
	a.NATSURL = a.srv.ClientURL()
	return a.lock.SetNATS(a.NATSURL)
}

// openLog opens the event store, the snapshots and the buckets as the
// admin, and reads the log's head: the services are ready once every view
// reflects it.
func (a *App) openLog(ctx context.Context, o Options) (reg *events.Registry, head uint64, err error) {
	// The admin creates (or checks) the streams; the services only bind.
	nc, err := a.connect(natsauth.Admin)
	if err != nil {
		return nil, 0, err
	}
	reg = NewRegistry()
	a.Store, err = jetstream.Open(ctx, nc, reg, jetstream.Options{GroupCommit: o.Fsync, Clock: o.Clock})
	if err != nil {
		return nil, 0, err
	}
	if _, err := jetstream.OpenSnapshots(ctx, nc, 1); err != nil {
		return nil, 0, err
	}
	if err := CreateBuckets(ctx, nc, 1); err != nil {
		return nil, 0, err
	}
	head, err = a.Store.Head(ctx) // ready once every view reflects it
	if err != nil {
		return nil, 0, err
	}
	return reg, head, nil
}

// startServices starts every service on a connection of its own, each
// registering its handlers in local too.
func (a *App) startServices(ctx context.Context, o Options, reg *events.Registry, head uint64, local *gateway.LocalServices) error {
	credKey, err := keyfile.LoadOrCreate(CredentialKeyFile(o.DataDir), identity.CredentialKeySize)
	if err != nil {
		return fmt.Errorf("identity's credential key: %w", err)
	}

	svcCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	a.stop = stop
	for name, build := range Builders() {
		snc, err := a.connect(name)
		if err != nil {
			return err
		}
		store, snaps, err := a.openStore(ctx, snc, reg, o.Fsync, o.Clock)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		deps := Deps{Store: store, Snapshots: snaps, Registry: reg, NC: snc, Log: o.Logger, BcryptCost: o.BcryptCost, DataDir: o.DataDir, CredentialKey: credKey, Clock: o.Clock, ViewDir: viewDir(o), Metrics: o.Metrics}
		c := build(deps)
		c.Local = local
		Observe(o.Metrics, name, deps, &c)
		if c.Position != nil {
			a.ready.CaughtUp(name, head, c.Position)
			c.CaughtUpFirst(head)
		}
		// Ready only once the service's endpoints are subscribed: a view at
		// the head is not yet an instance a request can reach.
		c.Service.Serving = a.ready.Pending(name + " joining its queue group")
		a.services.Add(1)
		go func() {
			defer a.services.Done()
			c.Service.Tracing = o.Tracing
			if err := RunComponent(svcCtx, snc, c, o.Logger); err != nil {
				o.Logger.Error("service stopped", "service", name, "err", err)
			}
		}()
	}
	return nil
}

// startGateway serves the HTTP API on o.HTTPAddr; it calls the services
// in local without NATS.
func (a *App) startGateway(ctx context.Context, o Options, local *gateway.LocalServices) error {
	tokens, err := devTokens(o.DataDir)
	if err != nil {
		return err
	}
	a.tokens = tokens
	gnc, err := a.connect(natsauth.Gateway)
	if err != nil {
		return err
	}
	o.Metrics.WatchNATS(gnc, natsauth.Gateway)
	idem, err := gateway.OpenIdempotency(ctx, gnc, 1)
	if err != nil {
		return err
	}
	revoked, err := gateway.OpenRevocations(ctx, gnc, 1, o.Logger)
	if err != nil {
		return err
	}
	a.revoked = revoked
	ln, err := net.Listen("tcp", o.HTTPAddr)
	if err != nil {
		return fmt.Errorf("HTTP on %s: %w", o.HTTPAddr, err)
	}
	a.HTTPAddr = ln.Addr()
	a.idem = idem
	a.http = gateway.NewServer(gateway.New(gnc, gateway.WithTokens(tokens), gateway.WithLogger(o.Logger), gateway.WithVersion(o.Version), gateway.WithLimits(o.Limits), gateway.WithIdempotency(idem), gateway.WithRevocations(revoked), gateway.WithReady(a.Ready), gateway.WithMetrics(o.Metrics), gateway.WithTracing(o.Tracing), gateway.WithLocalServices(local)).Handler(), o.HTTPTimeouts)
	go func() { a.httpErr <- a.http.Serve(ln) }()
	return nil
}

// devTokens issues tokens with the data directory's signing key (created
// when missing) and still accepts those of its previous keys.
func devTokens(dataDir string) (*gateway.Tokens, error) {
	key, err := gateway.LoadOrCreateKey(filepath.Join(dataDir, "gateway", "token.key"))
	if err != nil {
		return nil, err
	}
	previous, err := previousTokenKeys(filepath.Join(dataDir, "gateway", "token.key.previous"))
	if err != nil {
		return nil, err
	}
	return gateway.NewTokens(key, 0, previous...)
}

// connect dials the embedded server as one of the product's NATS users.
func (a *App) connect(user string) (*nats.Conn, error) {
	nc, err := ConnectAs(a.NATSURL, a.Credentials, user, a.natsTLS, a.log)
	if err != nil {
		return nil, err
	}
	a.conns = append(a.conns, nc)
	return nc, nil
}

// HasLog reports whether the data directory already holds an event log
// (the embedded server keeps JetStream under <data>/nats/jetstream).
func HasLog(dataDir string) bool {
	_, err := os.Stat(filepath.Join(dataDir, "nats", "jetstream"))
	return err == nil
}

// openStore opens the event store and snapshots on a service's own
// connection, so that it appends with its own NATS permissions.
func (a *App) openStore(ctx context.Context, nc *nats.Conn, reg *events.Registry, fsync bool, clock func() time.Time) (*jetstream.Store, *jetstream.Snapshots, error) {
	// Every service's subscribers read one feed, on the admin's connection
	// (which may read the whole stream): each commit is delivered and
	// decoded once per process, not once per view and process manager.
	store, err := jetstream.Open(ctx, nc, reg, jetstream.Options{GroupCommit: fsync, Observe: a.Metrics.StoreObserver(), Tracing: a.tracing, Clock: clock, Feed: a.Store.Feed()})
	if err != nil {
		return nil, nil, err
	}
	a.stores = append(a.stores, store)
	snaps, err := jetstream.OpenSnapshots(ctx, nc, 1)
	if err != nil {
		return nil, nil, err
	}
	return store, snaps, nil
}

// IssueToken signs a token as the gateway would at sign-in. The process
// that holds the signing key may act for its own operator (dev --demo).
func (a *App) IssueToken(actor fundbridge.Actor) (string, error) {
	tok, _, err := a.tokens.Issue(actor)
	return tok, err
}

// Ready returns nil once every service's views have caught up with the
// log's head as it was at start and the start-up work is done, or why not.
func (a *App) Ready() error { return a.ready.Ready() }

// Err reports an HTTP server failure.
func (a *App) Err() <-chan error { return a.httpErr }

// Close stops the gateway (finishing requests in flight), drains the
// services, and shuts NATS down.
func (a *App) Close() {
	if a.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := a.http.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Warn("HTTP shutdown", "err", err)
		}
		if err := a.idem.Drain(ctx); err != nil {
			a.log.Warn("HTTP shutdown", "err", err)
		}
		cancel()
		a.revoked.Close()
	}
	if a.stop != nil {
		a.stop()
		a.services.Wait()
	}
	for _, s := range a.stores {
		s.Close()
	}
	if a.Store != nil {
		a.Store.Close()
	}
	for i := len(a.conns) - 1; i >= 0; i-- {
		a.conns[i].Close()
	}
	if a.srv != nil {
		a.srv.Shutdown()
	}
	a.lock.Release()
}
