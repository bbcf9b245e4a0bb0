package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const fundbridgeImage = "fundbridge:local"

// The compose file starts only what the binary has: every service, flag,
// environment variable and credential file it names exists and is read;
// every service of the binary runs, the scaled ones twice.
func TestComposeFileMatchesTheBinary(t *testing.T) {
	b := fundbridge(t)
	seedFiles, credDir := seeds(t, b)
	doc := readYAML(t, filepath.Join("..", "docker-compose.yml"))
	if len(doc) != 1 {
		t.Fatalf("docker-compose.yml: %d documents, want 1", len(doc))
	}
	services := m(doc[0]["services"])
	volumes := m(doc[0]["volumes"])
	instances := map[string]int{}
	var natsNodes []string
	for _, name := range sortedKeys(services) {
		s := m(services[name])
		where := "docker-compose.yml service " + name
		for dep := range m(s["depends_on"]) {
			if _, ok := services[dep]; !ok {
				t.Errorf("%s depends on %s, which is not a service", where, dep)
			}
		}
		for _, v := range strs(s["volumes"]) {
			src, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(src, ".") {
				if _, err := os.Stat(filepath.Join("..", src)); err != nil {
					t.Errorf("%s mounts %s: %v", where, src, err)
				}
			} else if _, ok := volumes[src]; !ok {
				t.Errorf("%s mounts volume %s, which is not declared", where, src)
			}
		}
		image, _ := s["image"].(string)
		switch {
		case image == fundbridgeImage:
			args := strs(s["command"])
			check(t, b, invocation{where: where, args: args, env: envMap(s["environment"])}, seedFiles)
			if len(args) >= 2 && args[0] == "serve" {
				instances[args[1]]++
			}
			if hc := strs(m(s["healthcheck"])["test"]); len(hc) > 2 && hc[0] == "CMD" && strings.HasSuffix(hc[1], "/fundbridge") {
				check(t, b, invocation{where: where + " healthcheck", args: hc[2:]}, seedFiles)
			}
		case strings.HasPrefix(image, "nats:"):
			natsNodes = append(natsNodes, name)
			checkNATSImage(t, where, image)
			env := envMap(m(s["environment"]))
			checkNATSConfig(t, where, env, credDir)
		}
	}
	for _, name := range b.services(t) {
		want := 1
		if slices.Contains([]string{"gateway", "applications", "matching", "deals"}, name) {
			want = 2
		}
		if instances[name] < want {
			t.Errorf("docker-compose.yml runs %d instances of %s, want at least %d", instances[name], name, want)
		}
	}
	if len(natsNodes) != 3 {
		t.Errorf("docker-compose.yml has NATS nodes %v, want three", natsNodes)
	}
	// The proxy sends to every gateway.
	conf, err := os.ReadFile("nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range sortedKeys(services) {
		if args := strs(m(services[name])["command"]); len(args) == 2 && args[0] == "serve" && args[1] == "gateway" && !strings.Contains(string(conf), "server "+name+":8080") {
			t.Errorf("deploy/nginx.conf does not send to %s", name)
		}
	}
	if k := m(services["kurrentdb"]); !slices.Contains(strs(k["profiles"]), "kurrentdb") {
		t.Error("docker-compose.yml has no kurrentdb service in profile kurrentdb")
	}
}
