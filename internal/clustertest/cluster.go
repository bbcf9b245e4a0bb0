package clustertest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/fundbridge/fundbridge/internal/app"
	"github.com/fundbridge/fundbridge/internal/natsauth"
)

// Cluster is a three-node NATS cluster with the deploy configuration and
// Fundbridge processes against it, on 127.0.0.1 only. Close stops all.
type Cluster struct {
	Dir     string // everything on disk: configuration, logs, JetStream
	Auth    string // seeds, authorization.conf and TLS files
	Bin     string // fundbridge
	NATSBin string // nats-server
	Nodes   []*Proc

	mu    sync.Mutex
	procs []*Proc
}

// Proc is one child process; it can be killed and started again with the
// same command line, environment and ports.
type Proc struct {
	Name   string
	Health string // base URL of /healthz and /readyz
	Log    string // its stdout and stderr
	bin    string
	args   []string
	env    []string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// FreePort returns a port on 127.0.0.1 nobody listens on now.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func freePorts(n int) ([]int, error) {
	seen := map[int]bool{}
	var out []int
	for len(out) < n {
		p, err := FreePort()
		if err != nil {
			return nil, err
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out, nil
}

// Start builds what it needs, writes credentials and TLS files with the
// binary, starts three NATS nodes with deploy/nats/nats-server.conf and
// creates the streams (R3) as the admin.
func Start(ctx context.Context, dir string) (_ *Cluster, err error) {
	c := &Cluster{Dir: dir, Auth: filepath.Join(dir, "auth")}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	if c.NATSBin, err = NATSServer(ctx); err != nil {
		return nil, err
	}
	if c.Bin, err = Fundbridge(ctx, dir); err != nil {
		return nil, err
	}
	if err := c.Run(ctx, "nats", "credentials", "--dir", c.Auth); err != nil {
		return nil, err
	}
	if err := c.Run(ctx, "nats", "tls", "--dir", c.Auth, "--hosts", "127.0.0.1,localhost"); err != nil {
		return nil, err
	}
	root, err := ModuleRoot(ctx)
	if err != nil {
		return nil, err
	}
	conf, err := os.ReadFile(filepath.Join(root, "deploy", "nats", "nats-server.conf"))
	if err != nil {
		return nil, err
	}
	confPath := filepath.Join(dir, "nats-server.conf") // beside auth/, as the include wants
	if err := os.WriteFile(confPath, conf, 0o600); err != nil {
		return nil, err
	}
	ports, err := freePorts(9)
	if err != nil {
		return nil, err
	}
	var routes []string
	for i := range 3 {
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", ports[3*i+1]))
	}
	for i := range 3 {
		name := fmt.Sprintf("nats-%d", i+1)
		env := []string{
			"NATS_SERVER_NAME=" + name, "NATS_HOST=127.0.0.1",
			"NATS_PORT=" + strconv.Itoa(ports[3*i]), "NATS_CLUSTER_PORT=" + strconv.Itoa(ports[3*i+1]), "NATS_MONITOR_PORT=" + strconv.Itoa(ports[3*i+2]),
			"NATS_STORE_DIR=" + filepath.Join(dir, name),
			"NATS_ROUTE_1=" + routes[0], "NATS_ROUTE_2=" + routes[1], "NATS_ROUTE_3=" + routes[2],
			"NATS_TLS_CERT=" + filepath.Join(c.Auth, "nats.pem"), "NATS_TLS_KEY=" + filepath.Join(c.Auth, "nats-key.pem"), "NATS_TLS_CA=" + filepath.Join(c.Auth, "ca.pem"),
		}
		p := &Proc{Name: name, bin: c.NATSBin, args: []string{"-c", confPath}, env: env,
			Health: fmt.Sprintf("http://127.0.0.1:%d", ports[3*i+2]), Log: filepath.Join(dir, name+".log")}
		c.Nodes = append(c.Nodes, p)
		c.track(p)
		if err := p.Start(); err != nil {
			return nil, err
		}
	}
	for _, n := range c.Nodes {
		if err := WaitHealthy(ctx, n.Health+"/healthz?js-enabled-only=true", time.Minute); err != nil {
			return nil, fmt.Errorf("%s: %w (log %s)", n.Name, err, n.Log)
		}
	}
	// The admin creates the streams and buckets, R3; until the cluster has
	// elected its meta leader this is refused, so it is tried again.
	deadline := time.Now().Add(3 * time.Minute) // a loaded machine elects slowly
	for {
		err := c.Run(ctx, append([]string{"nats", "streams", "--replicas", "3", "--creds", filepath.Join(c.Auth, "admin.nk")}, c.NATSFlags()...)...)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return nil, err
		}
		time.Sleep(time.Second)
	}
	return c, nil
}

// NATSURLs are the three nodes' client URLs, comma-separated.
func (c *Cluster) NATSURLs() string {
	var urls []string
	for _, n := range c.Nodes {
		port := envOf(n.env, "NATS_PORT")
		urls = append(urls, "tls://127.0.0.1:"+port)
	}
	return strings.Join(urls, ",")
}

// NATSFlags connect a fundbridge command to the cluster (add --creds).
func (c *Cluster) NATSFlags() []string {
	return []string{"--nats", c.NATSURLs(), "--nats-tls-ca", filepath.Join(c.Auth, "ca.pem")}
}

func envOf(env []string, key string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

// Run runs fundbridge to completion.
func (c *Cluster) Run(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, c.Bin, args...)
	cmd.Env = baseEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("fundbridge %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// Serve starts fundbridge serve service as instance name, with its own
// credentials, a health listener, and extra flags.
func (c *Cluster) Serve(name, service string, extra ...string) (*Proc, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	args := append([]string{"serve", service, "--creds", filepath.Join(c.Auth, service+".nk"), "--replicas", "3",
		"--health-addr", fmt.Sprintf("127.0.0.1:%d", port), "--log-format", "json"}, c.NATSFlags()...)
	p := &Proc{Name: name, bin: c.Bin, args: append(args, extra...), env: baseEnv(),
		Health: fmt.Sprintf("http://127.0.0.1:%d", port), Log: filepath.Join(c.Dir, name+".log")}
	c.track(p)
	return p, p.Start()
}

func (c *Cluster) track(p *Proc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.procs = append(c.procs, p)
}

// Close stops every process, services first, then the nodes.
func (c *Cluster) Close() {
	c.mu.Lock()
	procs := c.procs
	c.mu.Unlock()
	var wg sync.WaitGroup
	for i := len(procs) - 1; i >= 0; i-- {
		if !strings.HasPrefix(procs[i].Name, "nats-") {
			wg.Go(func() { procs[i].Stop(10 * time.Second) })
		}
	}
	wg.Wait()
	for _, n := range c.Nodes {
		wg.Go(func() { n.Stop(10 * time.Second) })
	}
	wg.Wait()
}

// baseEnv is what children inherit: nothing of the test's FUNDBRIDGE_*.
func baseEnv() []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir()}
}

// Start starts the process (again), appending to its log.
func (p *Proc) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return fmt.Errorf("%s is running", p.Name)
	}
	log, err := os.OpenFile(p.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = p.env, log, log
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("start %s: %w", p.Name, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		log.Close()
		close(done)
	}()
	p.cmd, p.done = cmd, done
	return nil
}

// Kill sends SIGKILL (no shutdown, no flush) and waits for the end.
func (p *Proc) Kill() { p.signal(syscall.SIGKILL, time.Minute) }

// Stop sends SIGTERM, and SIGKILL if the process is still there after
// grace.
func (p *Proc) Stop(grace time.Duration) { p.signal(syscall.SIGTERM, grace) }

func (p *Proc) signal(sig syscall.Signal, grace time.Duration) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(grace):
		_ = cmd.Process.Kill()
		<-done
	}
}

// PID is the running process's id, 0 if it is not running.
func (p *Proc) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// WaitReady waits until the process's /readyz answers 200.
func (p *Proc) WaitReady(ctx context.Context, timeout time.Duration) error {
	if err := WaitHealthy(ctx, p.Health+"/readyz", timeout); err != nil {
		return fmt.Errorf("%s: %w (log %s)", p.Name, err, p.Log)
	}
	return nil
}

// WaitHealthy polls url until it answers 2xx.
func WaitHealthy(ctx context.Context, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	last := errors.New("no answer")
	for time.Now().Before(deadline) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				return nil
			}
			last = fmt.Errorf("%s answered %d", url, resp.StatusCode)
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("not healthy after %s: %w", timeout, last)
}

// Connect dials the cluster as one of the product's NATS users.
func (c *Cluster) Connect(user string) (*nats.Conn, error) {
	opts, err := natsauth.ClientOptions(filepath.Join(c.Auth, user+".nk"), user)
	if err != nil {
		return nil, err
	}
	tlsOpts, err := natsauth.TLSFiles{CA: filepath.Join(c.Auth, "ca.pem")}.ClientOptions()
	if err != nil {
		return nil, err
	}
	return app.Connect(c.NATSURLs(), "fundbridge-clustertest-"+user, append(opts, tlsOpts...)...)
}
