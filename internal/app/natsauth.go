package app

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/fundbridge/fundbridge/internal/natsauth"
	"github.com/fundbridge/fundbridge/services/applications"
	"github.com/fundbridge/fundbridge/services/audit"
	"github.com/fundbridge/fundbridge/services/deals"
	"github.com/fundbridge/fundbridge/services/funds"
	"github.com/fundbridge/fundbridge/services/gateway"
	"github.com/fundbridge/fundbridge/services/identity"
	"github.com/fundbridge/fundbridge/services/insurance"
	"github.com/fundbridge/fundbridge/services/matching"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
	"github.com/fundbridge/fundbridge/services/process"
	"github.com/fundbridge/fundbridge/services/views"
)

// Aggregates lists, for each service, the aggregate types it owns: the
// only event and snapshot subjects (fb.ev.<type>.>, fb.snap.<type>.>) its
// NATS user may append to. Every service of Builders needs a line here, or
// the product refuses to start. "process" is shared by the services that
// run process managers (matching, deals): an instance's stream is
// process-<name>-<id>, one subject token, so NATS cannot tell one
// service's processes from another's.
func Aggregates() map[string][]string {
	return map[string][]string{
		identity.Name:     {"org", "user", "email"},
		applications.Name: {"company", "application", "uscc"},
		funds.Name:        {"fund"},
		matching.Name:     {matchingapi.DealAggregate, "process", matching.MatchmakingAggregate},                           // process: the closing process's instances
		audit.Name:        nil,                                                                                             // reads the log
		views.Name:        nil,                                                                                             // reads the log
		deals.Name:        {deals.BankAggregate, deals.DealAggregate, deals.LoanAggregate, "process"},                      // process: syndication and arrears instances
		insurance.Name:    {"insurance", "policy", "ratingtable", "subsidy", "patentstanding", insurance.ProcessAggregate}, // the policy process's instances
	}
}

// Buckets lists, for each service, the JetStream KV buckets only its NATS
// user may read and write (the admin creates them, in Start and fundbridge
// nats streams).
func Buckets() map[string][]string {
	return map[string][]string{
		identity.Name:    {identity.PersonKeysBucket},
		natsauth.Gateway: {gateway.IdempotencyBucket, gateway.IdempotencyOwnersBucket, gateway.RevokedBucket},
		matching.Name:    {process.LeaseBucket(matching.ClosingName), process.LeaseBucket(matching.MatchmakingName)},
		deals.Name:       {process.LeaseBucket(deals.SyndicationName), process.LeaseBucket(deals.ArrearsName)},
		insurance.Name:   {process.LeaseBucket(insurance.ProcessName)},
	}
}

// Processes lists, for each service, the processes whose managers it
// runs: their deadlines are its to arm and read.
func Processes() map[string][]string {
	return map[string][]string{
		matching.Name:  {matching.ClosingName, matching.MatchmakingName},
		deals.Name:     {deals.SyndicationName, deals.ArrearsName},
		insurance.Name: {insurance.ProcessName},
	}
}

// Grants are the subjects beyond its aggregates each user may publish to:
// its Buckets, and its Processes' deadlines (schedule, fire, and read and
// acknowledge its firings on its durable consumer, which the admin
// creates).
func Grants() map[string][]string {
	out := map[string][]string{}
	for user, buckets := range Buckets() {
		for _, b := range buckets {
			out[user] = append(out[user], natsauth.KVSubjects(b)...)
		}
	}
	// The checkpoint bucket is shared; each process writes only its own
	// key (its name), so one service cannot move another's.
	cp, cpStream := process.CheckpointBucket, "KV_"+process.CheckpointBucket
	for user, names := range Processes() {
		out[user] = append(out[user], "$JS.API.STREAM.INFO."+process.TimerStream,
			"$JS.API.STREAM.INFO."+cpStream, "$JS.API.STREAM.MSG.GET."+cpStream)
		for _, name := range names {
			consumer := process.TimerStream + "." + process.TimerConsumer(name)
			out[user] = append(out[user],
				"$KV."+cp+"."+name, "$JS.API.DIRECT.GET."+cpStream+".$KV."+cp+"."+name,
				process.ScheduleSubject(name)+".>", process.FireSubject(name)+".>",
				"$JS.API.CONSUMER.INFO."+consumer,
				"$JS.API.CONSUMER.MSG.NEXT."+consumer,
				"$JS.ACK."+consumer+".>",
			)
		}
	}
	return out
}

// CreateBuckets creates (or checks) the KV buckets of Buckets on the
// admin's connection, with replicas as the event stream's.
func CreateBuckets(ctx context.Context, nc *nats.Conn, replicas int) error {
	if err := identity.CreatePersonKeysBucket(ctx, nc, replicas); err != nil {
		return err
	}
	if _, err := gateway.OpenIdempotency(ctx, nc, replicas); err != nil {
		return err
	}
	if err := gateway.CreateRevokedBucket(ctx, nc, replicas); err != nil {
		return err
	}
	js, err := njs.New(nc)
	if err != nil {
		return err
	}
	for _, names := range Processes() {
		for _, name := range names {
			if err := process.Provision(ctx, js, name, replicas, 0); err != nil {
				return err
			}
		}
	}
	return nil
}

// CredentialsDir is where the NATS users' seeds live in a data directory.
func CredentialsDir(dataDir string) string { return filepath.Join(dataDir, "credentials") }

// NATSUsers loads (or on first start generates) the product's NATS
// credentials in dir (CredentialsDir of a data directory) and returns them
// with the server's users: one per service, the gateway and the admin.
func NATSUsers(dir string) (*natsauth.Credentials, []*server.NkeyUser, error) {
	aggs := Aggregates()
	names := []string{natsauth.Admin, natsauth.Gateway}
	for name := range Builders() {
		if _, ok := aggs[name]; !ok {
			return nil, nil, fmt.Errorf("service %s has no NATS permissions: add its aggregate types to app.Aggregates", name)
		}
		names = append(names, name)
	}
	creds, err := natsauth.Ensure(dir, names)
	if err != nil {
		return nil, nil, err
	}
	users, err := creds.Users(aggs, Grants())
	if err != nil {
		return nil, nil, err
	}
	return creds, users, nil
}

// ConnectAs dials NATS as one of the product's users, with its seed and
// the TLS settings. What the server refuses it (a permission violation) is
// logged: in a correct product that never happens.
func ConnectAs(url string, creds *natsauth.Credentials, user string, tls natsauth.TLSFiles, log *slog.Logger) (*nats.Conn, error) {
	opts, err := natsauth.ClientOptions(creds.File(user), user)
	if err != nil {
		return nil, err
	}
	tlsOpts, err := tls.ClientOptions()
	if err != nil {
		return nil, err
	}
	opts = append(opts, tlsOpts...)
	if log != nil {
		opts = append(opts, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			log.Warn("NATS refused", "user", user, "err", err)
		}))
	}
	return Connect(url, "fundbridge-"+user, opts...)
}
