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
		for _, mt := range mounts(s["volumes"]) {
			src := mt.source
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
			if user := credentialUser(args); user != "" {
				checkOwnSeed(t, where, user, credsVolume(services), mounts(s["volumes"]), envMap(s["environment"]), seedFiles)
			}
			if len(args) >= 2 && args[0] == "serve" {
				instances[args[1]]++
			}
			if hc := strs(m(s["healthcheck"])["test"]); len(hc) > 2 && hc[0] == "CMD" && strings.HasSuffix(hc[1], "/fundbridge") {
				check(t, b, invocation{where: where + " healthcheck", args: hc[2:]}, seedFiles)
			}
		case strings.HasPrefix(image, "nats:"):
			natsNodes = append(natsNodes, name)
			checkNATSImage(t, where, image)
			checkOwnSeed(t, where, "", credsVolume(services), mounts(s["volumes"]), nil, seedFiles)
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

// mount is one entry of a compose service's volumes, in the short syntax
// (source:target[:ro]) or the long one (a map, perhaps with a subpath).
type mount struct{ source, target, subpath string }

func mounts(v any) []mount {
	var out []mount
	for _, x := range l(v) {
		switch x := x.(type) {
		case string:
			parts := strings.Split(x, ":")
			mt := mount{source: parts[0]}
			if len(parts) > 1 {
				mt.target = parts[1]
			}
			out = append(out, mt)
		case map[string]any:
			src, _ := x["source"].(string)
			target, _ := x["target"].(string)
			sub, _ := m(x["volume"])["subpath"].(string)
			out = append(out, mount{source: src, target: target, subpath: sub})
		}
	}
	return out
}

// credsVolume is the volume fundbridge nats credentials writes the seeds
// to: the one the credentials service mounts where its --dir points.
func credsVolume(services map[string]any) string {
	for _, name := range sortedKeys(services) {
		s := m(services[name])
		args := strs(s["command"])
		if len(args) < 2 || args[0] != "nats" || args[1] != "credentials" {
			continue
		}
		for i, a := range args {
			if a == "--dir" && i+1 < len(args) {
				for _, mt := range mounts(s["volumes"]) {
					if mt.target == args[i+1] {
						return mt.source
					}
				}
			}
		}
	}
	return ""
}

// checkOwnSeed: a container sees no other user's seed. From the volume of
// the seeds it mounts single files only (volume subpaths), never the whole
// volume: a service (user) its own seed, where FUNDBRIDGE_NATS_CREDS
// points, and the CA certificate; a NATS node (user "") its certificate,
// its key, the CA and the authorization.conf of public keys.
func checkOwnSeed(t *testing.T, where, user, volume string, mts []mount, env map[string]string, seedFiles []string) {
	t.Helper()
	if volume == "" {
		t.Errorf("%s: no service runs fundbridge nats credentials --dir on a volume", where)
		return
	}
	allowed := []string{"ca.pem"}
	if user == "" {
		allowed = append(allowed, "authorization.conf", "nats.pem", "nats-key.pem")
	} else {
		allowed = append(allowed, user+".nk")
	}
	ownSeedAt := ""
	for _, mt := range mts {
		if mt.source != volume {
			continue
		}
		switch {
		case mt.subpath == "":
			t.Errorf("%s mounts the whole volume %s at %s, every user's seed with it: mount only %v, one file each (volume subpath)", where, volume, mt.target, allowed)
		case !slices.Contains(allowed, mt.subpath):
			t.Errorf("%s mounts %s from %s: not its own (it may mount %v)", where, mt.subpath, volume, allowed)
		case strings.HasSuffix(mt.subpath, ".nk"):
			if !slices.Contains(seedFiles, mt.subpath) {
				t.Errorf("%s mounts %s, which fundbridge nats credentials does not write", where, mt.subpath)
			}
			ownSeedAt = mt.target
		}
	}
	if user != "" && env["FUNDBRIDGE_NATS_CREDS"] != ownSeedAt {
		t.Errorf("%s: FUNDBRIDGE_NATS_CREDS is %q, but its own seed %s.nk is mounted at %q", where, env["FUNDBRIDGE_NATS_CREDS"], user, ownSeedAt)
	}
}
