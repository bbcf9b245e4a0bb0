package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/fundbridge/fundbridge/events/jetstream"
	"github.com/fundbridge/fundbridge/internal/app"
	"github.com/fundbridge/fundbridge/internal/natsauth"
	"github.com/fundbridge/fundbridge/services/identity"
)

const natsUsage = `Usage:
  fundbridge nats credentials [--dir DIR] [--also OLD]
      generate (or keep) one nkey seed per service, the gateway and the admin
      in DIR, and DIR/authorization.conf for an external nats-server; with
      --also, the server accepts OLD's keys too (rotation)
  fundbridge nats streams --nats URL --creds DIR/admin.nk [--replicas 3]
      create or check the event and snapshot streams, as the admin
  fundbridge nats tls [--dir DIR] [--hosts nats-1,nats-2,...]
      a private CA and the NATS nodes' certificate, for a cluster without
      certificates of its own (docker-compose.yml)
`

// runNATS prepares an external NATS cluster for the services: what
// fundbridge dev does for its embedded server by itself.
func runNATS(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "credentials" && args[0] != "streams" && args[0] != "tls") {
		fmt.Fprint(stderr, natsUsage)
		return fmt.Errorf("%w: nats needs a subcommand: credentials, streams or tls", errUsage)
	}
	switch args[0] {
	case "credentials":
		return natsCredentials(args[1:], stdout, stderr)
	case "tls":
		return natsTLSFiles(args[1:], stdout, stderr)
	}
	f := newFlags("nats streams", "fundbridge nats streams [flags]", stderr)
	natsURL := f.string("nats", "nats://127.0.0.1:4222", "NATS server URLs, comma-separated")
	creds := f.stringEnv("creds", "FUNDBRIDGE_NATS_CREDS", "", "the admin's NATS credentials (admin.nk)")
	replicas := f.int("replicas", 1, "replicas of the JetStream streams (3 in a cluster)")
	natsTLS := f.natsTLS("this client, if the server asks for one")
	if err := f.Parse(args[1:]); err != nil {
		return err
	}
	opts, err := natsOptions(natsauth.Admin, *creds, natsTLS())
	if err != nil {
		return err
	}
	nc, err := app.Connect(*natsURL, "fundbridge-nats-streams", opts...)
	if err != nil {
		return err
	}
	defer nc.Close()
	store, err := jetstream.Open(ctx, nc, app.NewRegistry(), jetstream.Options{Replicas: *replicas})
	if err != nil {
		return err
	}
	store.Close()
	if _, err := jetstream.OpenSnapshots(ctx, nc, *replicas); err != nil {
		return err
	}
	if err := app.CreateBuckets(ctx, nc, *replicas); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Streams %s and %s and KV bucket %s are ready (%d replicas).\n", natsauth.EventStream, natsauth.SnapshotStream, identity.PersonKeysBucket, *replicas)
	return nil
}

func natsCredentials(args []string, stdout, stderr io.Writer) error {
	f := newFlags("nats credentials", "fundbridge nats credentials [flags]", stderr)
	dir := f.string("dir", app.CredentialsDir("./data"), "where the seeds and authorization.conf go (kept readable by the owner only)")
	also := f.string("also", "", "another credentials directory whose keys the server keeps accepting while services move to DIR's (rotation)")
	if err := f.Parse(args); err != nil {
		return err
	}
	creds, users, err := app.NATSUsers(*dir)
	if err != nil {
		return err
	}
	names := creds.Names()
	if *also != "" {
		if _, err := os.Stat(*also); err != nil {
			return fmt.Errorf("--also: %w", err)
		}
		old, oldUsers, err := app.NATSUsers(*also)
		if err != nil {
			return err
		}
		users = append(users, oldUsers...)
		for k, n := range old.Names() {
			names[k] = n + " (previous key, from " + *also + ")"
		}
	}
	conf, err := natsauth.AuthorizationConf(users, names)
	if err != nil {
		return err
	}
	path := filepath.Join(creds.Dir, "authorization.conf")
	if err := os.WriteFile(path, conf, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "NATS seeds in %s (one <user>.nk each; give each service only its own).\n", absPath(creds.Dir))
	fmt.Fprintf(stdout, "Server users in %s: include it from nats-server.conf.\n", absPath(path))
	return nil
}
