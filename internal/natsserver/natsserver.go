// Package natsserver runs a NATS server with JetStream inside the process:
// the default for one machine (fundbridge dev), and the cluster nodes of the
// multi-node tests.
package natsserver

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Options configure an embedded server.
type Options struct {
	// Addr is host:port for clients; port 0 picks a free one.
	Addr string
	// DataDir holds JetStream's files (in DataDir/jetstream).
	DataDir string
	// SyncAlways makes JetStream fsync every write before acknowledging it.
	// Without it, JetStream flushes to disk every two minutes and a power
	// failure can lose acknowledged writes.
	SyncAlways bool
	// Name identifies the server; required in a cluster.
	Name string
	// Cluster, when set, joins a cluster: ClusterAddr listens for routes
	// (port 0 picks a free one) and Routes names the peers.
	ClusterName string
	ClusterAddr string
	Routes      []string
	// Logs, when true, sends the server's own log to stderr.
	Logs bool
	// Users, when set, turns authentication on: only these nkey users may
	// connect, each held to its permissions. Empty leaves the server open,
	// as the multi-node store tests run it.
	Users []*server.NkeyUser
	// TLS, when set, makes clients connect over TLS.
	TLS *tls.Config
}

// Server is a running embedded NATS server.
type Server struct {
	ns *server.Server
}

// Start starts the server and waits until it accepts clients.
func Start(o Options) (*Server, error) {
	host, port, err := splitAddr(o.Addr, "127.0.0.1")
	if err != nil {
		return nil, fmt.Errorf("nats address %q: %w", o.Addr, err)
	}
	opts := &server.Options{
		ServerName:         o.Name,
		Host:               host,
		Port:               port,
		JetStream:          true,
		StoreDir:           o.DataDir, // the server adds its own "jetstream" folder
		SyncAlways:         o.SyncAlways,
		NoSigs:             true,
		NoLog:              !o.Logs,
		MaxPayload:         2 << 20,
		JetStreamMaxMemory: 1 << 30,
	}
	if len(o.Users) > 0 {
		opts.Nkeys = o.Users
	}
	if o.TLS != nil {
		opts.TLSConfig = o.TLS
		opts.TLS = true
		opts.TLSTimeout = 5
		opts.TLSVerify = o.TLS.ClientAuth == tls.RequireAndVerifyClientCert
	}
	if o.SyncAlways {
		opts.SyncInterval = 2 * time.Minute // ignored by the store when SyncAlways is set
	}
	if o.ClusterName != "" {
		chost, cport, err := splitAddr(o.ClusterAddr, "127.0.0.1")
		if err != nil {
			return nil, fmt.Errorf("cluster address %q: %w", o.ClusterAddr, err)
		}
		opts.Cluster = server.ClusterOpts{Name: o.ClusterName, Host: chost, Port: cport}
		for _, r := range o.Routes {
			u, err := url.Parse(r)
			if err != nil {
				return nil, fmt.Errorf("route %q: %w", r, err)
			}
			opts.Routes = append(opts.Routes, u)
		}
	}
	// The server would only log a port in use and then never become
	// ready: find out first, and say so.
	if port > 0 {
		if err := probe(host, port); err != nil {
			return nil, err
		}
	}
	if opts.Cluster.Port > 0 {
		if err := probe(opts.Cluster.Host, opts.Cluster.Port); err != nil {
			return nil, err
		}
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("nats server: %w", err)
	}
	if o.Logs {
		ns.ConfigureLogger()
	}
	ns.Start()
	if !ns.ReadyForConnections(15 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("nats server: not ready for connections after 15s (is the port in use?)")
	}
	return &Server{ns: ns}, nil
}

// ClientURL is where clients connect, with the port actually bound.
func (s *Server) ClientURL() string { return s.ns.ClientURL() }

// ClusterURL is where peers route to, with the port actually bound.
func (s *Server) ClusterURL() string {
	addr := s.ns.ClusterAddr()
	if addr == nil {
		return ""
	}
	return "nats://" + addr.String()
}

// JetStreamReady reports whether JetStream can take requests: in a cluster,
// once a meta leader is elected.
func (s *Server) JetStreamReady() bool {
	return s.ns.JetStreamEnabled() && (!s.ns.JetStreamIsClustered() || s.ns.JetStreamIsCurrent())
}

// Shutdown stops the server and waits for it to finish.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

// probe checks that host:port can be listened on.
func probe(host string, port int) error {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", net.JoinHostPort(host, strconv.Itoa(port)), err)
	}
	return ln.Close()
}

func splitAddr(addr, defaultHost string) (string, int, error) {
	if addr == "" {
		return defaultHost, server.RANDOM_PORT, nil
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	if host == "" {
		host = "0.0.0.0"
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port %q", portStr)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	return host, port, nil
}
