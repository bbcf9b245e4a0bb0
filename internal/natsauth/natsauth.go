// Package natsauth closes the product's NATS to strangers: one nkey user per
// service, one for the gateway and one for the admin, each generated on
// first start in the data directory and held by the server to the subjects
// it must use.
//
// Why nkeys and not JWT accounts: the product lives in one NATS account (the
// event stream is shared), so accounts, an operator and a JWT resolver would
// add moving parts without isolating anything more. Nkey users keep the
// secret (a seed) with the client only; the server holds public keys and
// permissions, which the embedded server takes in its options and an
// external nats-server takes from the generated authorization.conf.
package natsauth

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// The users besides the services.
const (
	Admin   = "admin"   // creates and changes streams; operators' nats CLI
	Gateway = "gateway" // the HTTP gateway: requests to services only
)

// The JetStream streams and subject roots the product uses (the defaults of
// events/jetstream).
const (
	EventStream    = "FUNDBRIDGE_EVENTS"
	SnapshotStream = "FUNDBRIDGE_SNAPSHOTS"
	eventRoot      = "fb.ev"
	snapshotRoot   = "fb.snap"
)

// Credentials are the seed files of the product's NATS users.
type Credentials struct {
	Dir  string
	keys map[string]string // user → public key
}

// Ensure loads the seed of each user from dir, generating those missing:
// dir is made readable by its owner only (0700), each seed file too (0600).
func Ensure(dir string, users []string) (*Credentials, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("NATS credentials directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("NATS credentials directory: %w", err)
	}
	c := &Credentials{Dir: dir, keys: map[string]string{}}
	for _, u := range users {
		pub, err := ensureSeed(filepath.Join(dir, u+".nk"))
		if err != nil {
			return nil, fmt.Errorf("NATS credentials of %s: %w", u, err)
		}
		c.keys[u] = pub
	}
	return c, nil
}

func ensureSeed(path string) (string, error) {
	seed, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		kp, err := nkeys.CreateUser()
		if err != nil {
			return "", err
		}
		if seed, err = kp.Seed(); err != nil {
			return "", err
		}
		// O_EXCL: two processes starting on one directory never
		// overwrite each other's keys.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return "", err
		}
		if _, err := f.Write(append(seed, '\n')); err != nil {
			f.Close()
			return "", err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return "", err
		}
		if err := f.Close(); err != nil {
			return "", err
		}
	} else if err != nil {
		return "", err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return "", err
	}
	kp, err := nkeys.FromSeed(bytes.TrimSpace(seed))
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	pub, err := kp.PublicKey()
	if err != nil {
		return "", err
	}
	if !nkeys.IsValidPublicUserKey(pub) {
		return "", fmt.Errorf("%s: not a user seed", path)
	}
	return pub, nil
}

// File is where the user's seed is.
func (c *Credentials) File(user string) string { return filepath.Join(c.Dir, user+".nk") }

// PublicKey is the user's public nkey.
func (c *Credentials) PublicKey(user string) string { return c.keys[user] }

// Users are the server's view of the credentials: each user's public key
// and permissions (nil for the admin: everything).
// grants are, for a user, further subjects it may publish to (its own KV
// buckets' KVSubjects, say).
func (c *Credentials) Users(services, grants map[string][]string) ([]*server.NkeyUser, error) {
	var names []string
	for u := range c.keys {
		names = append(names, u)
	}
	sort.Strings(names)
	var out []*server.NkeyUser
	for _, u := range names {
		nu := &server.NkeyUser{Nkey: c.keys[u]}
		switch aggs, ok := services[u]; {
		case u == Admin:
		case u == Gateway:
			nu.Permissions = GatewayPermissions(grants[u]...)
		case ok:
			nu.Permissions = ServicePermissions(u, aggs, grants[u]...)
		default:
			return nil, fmt.Errorf("NATS user %s has no permissions", u)
		}
		out = append(out, nu)
	}
	return out, nil
}

// InboxPrefix is where a user's replies arrive: under its own name, so no
// user can subscribe to the replies meant for another.
func InboxPrefix(user string) string { return "_INBOX." + user }

// GatewayPermissions: the gateway sends requests to the services' public
// endpoints and reads the replies, and publishes to grants (its
// idempotency bucket); nothing else.
func GatewayPermissions(grants ...string) *server.Permissions {
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: append([]string{"fb.svc.>"}, grants...), Deny: streamAdmin()},
		Subscribe: &server.SubjectPermission{Allow: []string{InboxPrefix(Gateway) + ".>"}},
	}
}

// ServicePermissions: a service serves its own endpoints (from the gateway
// on fb.svc, from other services on fb.sys.<caller>), calls others as
// itself (fb.sys.<service>), appends events and snapshots to its own
// aggregates' subjects only, reads the event log, and publishes to grants
// (its own KV buckets, say); it may not create, change, purge or delete a
// stream.
func ServicePermissions(service string, aggregates []string, grants ...string) *server.Permissions {
	pub := []string{
		"fb.sys." + service + ".>",
		"$JS.API.STREAM.INFO." + EventStream,
		"$JS.API.STREAM.INFO." + SnapshotStream,
		"$JS.API.STREAM.MSG.GET." + EventStream,
		"$JS.API.STREAM.MSG.GET." + SnapshotStream,
		"$JS.API.DIRECT.GET." + EventStream, // batched reads of one event stream
		"$JS.API.DIRECT.GET." + EventStream + ".>",
		"$JS.API.DIRECT.GET." + SnapshotStream + ".>",
		// Ordered consumers on the event log (views, followers).
		"$JS.API.CONSUMER.CREATE." + EventStream + ".>",
		"$JS.API.CONSUMER.INFO." + EventStream + ".>",
		"$JS.API.CONSUMER.MSG.NEXT." + EventStream + ".>",
		"$JS.API.CONSUMER.DELETE." + EventStream + ".>",
	}
	for _, a := range aggregates {
		pub = append(pub, eventRoot+"."+a+".>", snapshotRoot+"."+a+".>")
	}
	pub = append(pub, grants...)
	return &server.Permissions{
		Publish: &server.SubjectPermission{Allow: pub, Deny: streamAdmin()},
		Subscribe: &server.SubjectPermission{Allow: []string{
			"fb.svc." + service + ".>",
			"fb.sys.*." + service + ".>",
			InboxPrefix(service) + ".>",
			// NATS micro discovery: nats micro ls/info/stats.
			"$SRV.PING", "$SRV.INFO", "$SRV.STATS",
			"$SRV.*." + service, "$SRV.*." + service + ".*",
		}},
		// Replies go to the inbox the request names, once, within the
		// server's default two minutes.
		Response: &server.ResponsePermission{MaxMsgs: 1, Expires: 2 * time.Minute},
	}
}

// KVSubjects are what a user of the KV bucket publishes to: bind it
// (stream info), get a key (direct or message get), put, create or purge
// one (a purge is a put with a rollup header on the key's subject), and
// watch keys (an ephemeral consumer on the bucket's own stream: the
// gateway waits so for a request in progress under the same
// Idempotency-Key). Not delete the bucket: that is stream admin.
func KVSubjects(bucket string) []string {
	stream := "KV_" + bucket
	return []string{
		"$KV." + bucket + ".>",
		"$JS.API.STREAM.INFO." + stream,
		"$JS.API.DIRECT.GET." + stream + ".>",
		"$JS.API.STREAM.MSG.GET." + stream,
		// Watch: an ephemeral ordered consumer on the bucket, its flow
		// control replies, and its removal.
		"$JS.API.CONSUMER.CREATE." + stream + ".>",
		"$JS.API.CONSUMER.DELETE." + stream + ".>",
		"$JS.FC." + stream + ".>",
	}
}

// streamAdmin are the JetStream API subjects only the admin may use,
// denied outright even if an allow above grew too wide.
func streamAdmin() []string {
	return []string{
		"$JS.API.STREAM.CREATE.>",
		"$JS.API.STREAM.UPDATE.>",
		"$JS.API.STREAM.DELETE.>",
		"$JS.API.STREAM.PURGE.>",
		"$JS.API.STREAM.MSG.DELETE.>",
		"$JS.API.STREAM.RESTORE.>",
		"$JS.API.CONSUMER.DURABLE.CREATE.>",
	}
}

// ClientOptions connect as the user whose credentials are in file: an nkey
// seed (.nk) or a JWT credentials file (.creds), with replies under the
// user's own inbox prefix.
func ClientOptions(file, user string) ([]nats.Option, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("NATS credentials: %w", err)
	}
	var auth nats.Option
	if bytes.Contains(data, []byte("BEGIN NATS USER JWT")) {
		auth = nats.UserCredentials(file)
	} else {
		auth, err = nats.NkeyOptionFromSeed(file)
		if err != nil {
			return nil, fmt.Errorf("NATS credentials %s: %w", file, err)
		}
	}
	return []nats.Option{auth, nats.CustomInboxPrefix(InboxPrefix(user))}, nil
}

// TLSFiles configure TLS: the server's certificate and key (or a client's,
// for servers that ask for one), and the CA that signed the server's.
type TLSFiles struct {
	Cert, Key, CA string
}

// Enabled reports whether any file is set.
func (t TLSFiles) Enabled() bool { return t.Cert != "" || t.Key != "" || t.CA != "" }

// ServerConfig is the embedded server's TLS: its certificate and key.
func (t TLSFiles) ServerConfig() (*tls.Config, error) {
	if t.Cert == "" || t.Key == "" {
		return nil, errors.New("NATS TLS: the server needs both --nats-tls-cert and --nats-tls-key")
	}
	cert, err := tls.LoadX509KeyPair(t.Cert, t.Key)
	if err != nil {
		return nil, fmt.Errorf("NATS TLS certificate: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// ClientOptions trust the CA (else the system's roots) and present the
// certificate when one is set.
func (t TLSFiles) ClientOptions() ([]nats.Option, error) {
	if !t.Enabled() {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if t.CA != "" {
		pem, err := os.ReadFile(t.CA)
		if err != nil {
			return nil, fmt.Errorf("NATS TLS CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("NATS TLS CA %s: no certificate in it", t.CA)
		}
		cfg.RootCAs = pool
	}
	if t.Cert != "" && t.Key != "" {
		cert, err := tls.LoadX509KeyPair(t.Cert, t.Key)
		if err != nil {
			return nil, fmt.Errorf("NATS TLS certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return []nats.Option{nats.Secure(cfg)}, nil
}

// AuthorizationConf is the users' part of a nats-server configuration, for
// running the services against an external cluster: include it from the
// server's configuration file. Seeds stay in the credentials directory;
// the server only learns public keys and permissions.
func AuthorizationConf(users []*server.NkeyUser, names map[string]string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# Fundbridge NATS users, generated by fundbridge nats credentials.\n# include this file from nats-server.conf; regenerate after adding a service.\nauthorization {\n  users = [\n")
	for _, u := range users {
		fmt.Fprintf(&b, "    # %s\n    {nkey: %q", names[u.Nkey], u.Nkey)
		if p := u.Permissions; p != nil {
			b.WriteString(", permissions: {")
			if err := writeSubjects(&b, "publish", p.Publish); err != nil {
				return nil, err
			}
			if err := writeSubjects(&b, ", subscribe", p.Subscribe); err != nil {
				return nil, err
			}
			if p.Response != nil {
				fmt.Fprintf(&b, ", allow_responses: {max: %d, expires: %q}", p.Response.MaxMsgs, p.Response.Expires)
			}
			b.WriteString("}")
		}
		b.WriteString("}\n")
	}
	b.WriteString("  ]\n}\n")
	return b.Bytes(), nil
}

func writeSubjects(b *bytes.Buffer, key string, p *server.SubjectPermission) error {
	if p == nil {
		return nil
	}
	fmt.Fprintf(b, "%s: {allow: %s", key, quoted(p.Allow))
	if len(p.Deny) > 0 {
		fmt.Fprintf(b, ", deny: %s", quoted(p.Deny))
	}
	b.WriteString("}")
	return nil
}

// quoted is a list of subjects as the server's configuration reads it
// (subjects hold no quotes or backslashes).
func quoted(subjects []string) string {
	q := make([]string, len(subjects))
	for i, s := range subjects {
		q[i] = `"` + s + `"`
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// Names maps each public key to its user, for comments and logs.
func (c *Credentials) Names() map[string]string {
	out := map[string]string{}
	for u, k := range c.keys {
		out[k] = u
	}
	return out
}
