// Package deploy holds the deployment files (NATS configuration, Kubernetes
// manifests) and the test that keeps them true to the binary: no container
// engine or cluster runs here, so what the files name is checked instead.
package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v4"

	"github.com/fundbridge/fundbridge/internal/clustertest"
)

// binary is the fundbridge binary built once for the test, and what its
// help says about each command.
type binary struct {
	path  string
	mu    sync.Mutex
	cache map[string]command
}

// command is one (sub)command's flags and their environment variables.
type command struct {
	flags map[string]string // flag → variable
	env   map[string]string // variable → flag
}

var flagLine = regexp.MustCompile(`(?m)^\s+--([a-z0-9-]+) \[([A-Z0-9_]+)\]`)

func (b *binary) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(b.path, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = []string{"HOME=" + t.TempDir()} // no FUNDBRIDGE_* of the test's own
	err := cmd.Run()
	return out.String(), err
}

// help reads the flags of a command ("serve", "nats streams") from its
// --help, which must exit 0.
func (b *binary) help(t *testing.T, cmd string) command {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if c, ok := b.cache[cmd]; ok {
		return c
	}
	args := strings.Fields(cmd)
	if args[0] == "serve" {
		args = append(args, "gateway") // serve takes the service first
	}
	out, err := b.run(t, append(args, "--help")...)
	if err != nil {
		t.Fatalf("fundbridge %s --help: %v\n%s", cmd, err, out)
	}
	c := command{flags: map[string]string{}, env: map[string]string{}}
	for _, m := range flagLine.FindAllStringSubmatch(out, -1) {
		c.flags[m[1]], c.env[m[2]] = m[2], m[1]
	}
	if len(c.flags) == 0 && cmd != "probe" {
		t.Fatalf("fundbridge %s --help lists no flags:\n%s", cmd, out)
	}
	b.cache[cmd] = c
	return c
}

// services are the names serve takes, from its usage.
func (b *binary) services(t *testing.T) []string {
	t.Helper()
	out, _ := b.run(t, "serve")
	_, list, ok := strings.Cut(out, "Services: ")
	if !ok {
		t.Fatalf("fundbridge serve does not list its services:\n%s", out)
	}
	return strings.Split(strings.TrimSpace(strings.SplitN(list, "\n", 2)[0]), ", ")
}

var (
	buildOnce sync.Once
	built     *binary
	buildErr  error
)

func fundbridge(t *testing.T) *binary {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fundbridge-deploy-test")
		if err != nil {
			buildErr = err
			return
		}
		path, err := clustertest.Fundbridge(context.Background(), dir)
		built, buildErr = &binary{path: path, cache: map[string]command{}}, err
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return built
}

// invocation is one process a deployment file starts from the image.
type invocation struct {
	where string   // "docker-compose.yml service views"
	args  []string // the command line after "fundbridge"
	env   map[string]string
}

// commandOf splits a command line into the (sub)command whose flags apply
// and the rest.
func commandOf(args []string) (string, []string) {
	switch {
	case len(args) >= 2 && args[0] == "serve":
		return "serve", args[2:]
	case len(args) >= 2 && args[0] == "nats":
		return "nats " + args[1], args[2:]
	case len(args) >= 1:
		return args[0], args[1:]
	}
	return "", nil
}

// credentialUser is the NATS user whose seed an invocation must use.
func credentialUser(args []string) string {
	switch {
	case len(args) >= 2 && args[0] == "serve":
		return args[1]
	case len(args) >= 2 && args[0] == "nats" && args[1] == "streams":
		return "admin"
	}
	return ""
}

// check holds an invocation to the binary: its (sub)command exists, every
// flag it passes and every FUNDBRIDGE_* variable it sets is one that
// command reads, a service it serves exists, and the NATS seed it names is
// the one fundbridge nats credentials writes for it.
func check(t *testing.T, b *binary, inv invocation, seeds []string) {
	t.Helper()
	name, rest := commandOf(inv.args)
	if name == "" {
		t.Errorf("%s: no command", inv.where)
		return
	}
	if name == "serve" && !slices.Contains(b.services(t), inv.args[1]) {
		t.Errorf("%s: fundbridge serve has no service %q (it has %v)", inv.where, inv.args[1], b.services(t))
	}
	c := b.help(t, name)
	for _, a := range rest {
		flag, ok := strings.CutPrefix(a, "--")
		if !ok {
			continue
		}
		flag, _, _ = strings.Cut(flag, "=")
		if _, known := c.flags[flag]; !known {
			t.Errorf("%s: fundbridge %s has no flag --%s", inv.where, name, flag)
		}
	}
	for v := range inv.env {
		if !strings.HasPrefix(v, "FUNDBRIDGE_") {
			continue
		}
		if _, read := c.env[v]; !read {
			t.Errorf("%s: fundbridge %s does not read %s", inv.where, name, v)
		}
	}
	if user := credentialUser(inv.args); user != "" {
		creds, ok := inv.env["FUNDBRIDGE_NATS_CREDS"]
		if !ok {
			for i, a := range rest {
				if a == "--creds" && i+1 < len(rest) {
					creds, ok = rest[i+1], true
				}
			}
		}
		switch {
		case !ok:
			t.Errorf("%s: no NATS credentials (FUNDBRIDGE_NATS_CREDS); NATS refuses anonymous clients", inv.where)
		case filepath.Base(creds) != user+".nk":
			t.Errorf("%s: NATS credentials %s, want the seed of user %s (%s.nk)", inv.where, creds, user, user)
		case !slices.Contains(seeds, user+".nk"):
			t.Errorf("%s: fundbridge nats credentials writes no %s.nk (it writes %v)", inv.where, user, seeds)
		}
	}
}

// seeds lists the files fundbridge nats credentials writes.
func seeds(t *testing.T, b *binary) ([]string, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "credentials")
	if out, err := b.run(t, "nats", "credentials", "--dir", dir); err != nil {
		t.Fatalf("fundbridge nats credentials: %v\n%s", err, out)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names, dir
}

// readYAML decodes every document of a file.
func readYAML(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var docs []map[string]any
	dec := yaml.NewDecoder(f)
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
}

func m(v any) map[string]any { x, _ := v.(map[string]any); return x }
func l(v any) []any          { x, _ := v.([]any); return x }

func strs(v any) []string {
	var out []string
	for _, x := range l(v) {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

func envMap(v any) map[string]string {
	out := map[string]string{}
	for k, x := range m(v) {
		out[k] = fmt.Sprint(x)
	}
	return out
}

func sortedKeys[V any](mp map[string]V) []string {
	keys := make([]string, 0, len(mp))
	for k := range mp {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
