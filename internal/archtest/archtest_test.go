// Package archtest checks how the packages may depend on each other: a
// service depends on other services only through their contracts (the
// services/<name>/<name>api packages), so each can change its insides
// without touching the others.
package archtest

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/fundbridge/fundbridge/"

type pkg struct {
	ImportPath   string
	Deps         []string
	TestImports  []string
	XTestImports []string
}

// service names the service a package belongs to ("" for none) and
// whether the package is that service's contract.
func service(path string) (name string, contract bool) {
	rest, ok := strings.CutPrefix(path, module+"services/")
	if !ok {
		return "", false
	}
	name, sub, _ := strings.Cut(rest, "/")
	if name == "svc" || name == "process" {
		return "", false // the runtime and the process manager every service shares
	}
	return name, sub == name+"api" || strings.HasPrefix(sub, name+"api/")
}

// allowed reports whether a package may depend on dep. Services and
// projections depend on a service only through its contract; a service on
// its own packages too. The gateway is no service: it reaches every
// service through contracts. The composition root (cmd, internal/app)
// wires services together and may import them.
func allowed(from, dep string) bool {
	depService, depContract := service(dep)
	if depService == "" || depContract {
		return true
	}
	fromService, fromContract := service(from)
	switch {
	case strings.HasPrefix(from, module+"projections"):
		return false
	case fromService == "":
		return !strings.HasPrefix(from, module+"services/")
	}
	return fromService == depService && !fromContract
}

// contract is where a service package's contract lives.
func contract(path string) string {
	name, _ := service(path)
	return "services/" + name + "/" + name + "api"
}

func TestServicesDependOnlyOnContracts(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps=false", "-json", module+"...")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(out)
	checked := 0
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, dep := range p.Deps {
			if !allowed(p.ImportPath, dep) {
				t.Errorf("%s depends on %s: depend on its contract %s instead", strings.TrimPrefix(p.ImportPath, module), strings.TrimPrefix(dep, module), contract(dep))
			}
		}
		// Tests may drive their own service, never another's insides.
		for _, dep := range append(p.TestImports, p.XTestImports...) {
			if !allowed(p.ImportPath, dep) {
				t.Errorf("tests of %s import %s: use its contract %s", strings.TrimPrefix(p.ImportPath, module), strings.TrimPrefix(dep, module), contract(dep))
			}
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if checked < 20 {
		t.Fatalf("checked only %d packages: is go list finding the module?", checked)
	}
}

func TestRuleCatchesACrossing(t *testing.T) {
	cases := []struct {
		from, dep string
		ok        bool
	}{
		{"services/matching", "services/funds/fundsapi", true},
		{"services/matching", "services/funds", false},
		{"services/matching", "services/matching", true},
		{"services/matching/matchingapi", "services/matching", false},
		{"services/gateway", "services/audit", false},
		{"services/gateway", "services/audit/auditapi", true},
		{"projections/timeline", "services/applications", false},
		{"projections/timeline", "services/applications/applicationsapi", true},
		{"services/views", "services/svc", true},
		{"services/matching", "services/process", true},
		{"internal/app", "services/funds", true},
		{"services/svc", "services/funds", false},
		{"services/gateway", "services/gateway", true},
	}
	for _, c := range cases {
		if got := allowed(module+c.from, module+c.dep); got != c.ok {
			t.Errorf("allowed(%s, %s) = %v, want %v", c.from, c.dep, got, c.ok)
		}
	}
}
