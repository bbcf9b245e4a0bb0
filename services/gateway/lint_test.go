package gateway

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// RedoclyEnv names the command that runs Redocly's CLI ("npx --yes
// @redocly/cli@2.77.0", as `make openapi-lint` sets it). Without it the
// lint is not run: it needs Node and the npm registry.
const RedoclyEnv = "FUNDBRIDGE_REDOCLY"

// The document passes Redocly's recommended rules with warnings counted as
// errors (recommended-strict): none may be left, operation-4xx-response
// included.
func TestOpenAPIPassesRedoclyLint(t *testing.T) {
	redocly := os.Getenv(RedoclyEnv)
	if redocly == "" {
		t.Skip("set " + RedoclyEnv + " (make openapi-lint) to lint the document with Redocly")
	}
	tokens, _ := NewTokens(make([]byte, 32), time.Hour)
	data, err := json.MarshalIndent(New(nil, WithTokens(tokens), WithVersion("lint")).OpenAPI(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "openapi.json")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	args := append(strings.Fields(redocly), "lint", "--extends", "recommended-strict", "--format", "stylish", file)
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("redocly lint: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "You have ") { // "You have 3 warnings."
		t.Fatalf("redocly lint warns:\n%s", out)
	}
}
