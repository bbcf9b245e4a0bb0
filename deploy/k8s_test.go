package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The Kubernetes manifests, like the compose file, start only what the
// binary has, with its probes on /healthz and /readyz at the ports the
// processes listen on, resources requested, and each service's NATS seed
// from its own Secret.
func TestKubernetesManifestsMatchTheBinary(t *testing.T) {
	b := fundbridge(t)
	seedFiles, credDir := seeds(t, b)
	kust := readYAML(t, "kustomization.yaml")[0]
	var docs []map[string]any
	for _, r := range strs(kust["resources"]) {
		docs = append(docs, readYAML(t, r)...)
	}
	for _, g := range l(kust["configMapGenerator"]) {
		for _, f := range strs(m(g)["files"]) {
			if _, err := os.Stat(f); err != nil {
				t.Errorf("kustomization.yaml: configMapGenerator file %s: %v", f, err)
			}
		}
	}
	configMaps := map[string]map[string]string{}
	for _, d := range docs {
		if d["kind"] == "ConfigMap" {
			configMaps[m(d["metadata"])["name"].(string)] = envMap(d["data"])
		}
	}
	replicas := map[string]int{}
	nats := 0
	for _, d := range docs {
		kind, name := fmt.Sprint(d["kind"]), fmt.Sprint(m(d["metadata"])["name"])
		spec := m(d["spec"])
		pod := m(m(spec["template"])["spec"])
		if pod == nil {
			continue
		}
		secrets := map[string]string{} // volume → secret
		for _, v := range l(pod["volumes"]) {
			if s := m(m(v)["secret"]); s != nil {
				secrets[fmt.Sprint(m(v)["name"])] = fmt.Sprint(s["secretName"])
			}
		}
		for _, c := range l(pod["containers"]) {
			c := m(c)
			where := fmt.Sprintf("%s %s container %s", kind, name, c["name"])
			image := fmt.Sprint(c["image"])
			env := map[string]string{}
			for _, from := range l(c["envFrom"]) {
				ref := fmt.Sprint(m(m(from)["configMapRef"])["name"])
				cm, ok := configMaps[ref]
				if !ok {
					t.Errorf("%s: envFrom ConfigMap %s is not in the manifests", where, ref)
				}
				for k, v := range cm {
					env[k] = v
				}
			}
			for _, e := range l(c["env"]) {
				env[fmt.Sprint(m(e)["name"])] = fmt.Sprint(m(e)["value"])
			}
			switch {
			case strings.HasPrefix(image, "fundbridge"):
				args := strs(c["args"])
				check(t, b, invocation{where: where, args: args, env: env}, seedFiles)
				checkSeedSecret(t, where, args, env, c, secrets)
				if kind != "Job" {
					checkProbes(t, where, c, env)
				}
				if len(args) >= 2 && args[0] == "serve" {
					n := 1
					if r, ok := spec["replicas"].(int); ok {
						n = r
					}
					replicas[args[1]] += n
				}
			case strings.HasPrefix(image, "nats:"):
				nats++
				checkNATSImage(t, where, image)
				env["NATS_SERVER_NAME"] = "nats-0" // from the pod's name
				checkNATSConfig(t, where, env, credDir)
				if r, _ := spec["replicas"].(int); r != 3 {
					t.Errorf("%s: %d replicas, want 3", where, r)
				}
			}
			if m(m(c["resources"])["requests"])["cpu"] == nil || m(m(c["resources"])["requests"])["memory"] == nil {
				t.Errorf("%s requests no CPU or memory", where)
			}
		}
	}
	if nats != 1 {
		t.Errorf("%d NATS StatefulSets, want 1", nats)
	}
	for _, svc := range b.services(t) {
		want := 1
		if slices.Contains([]string{"gateway", "applications", "matching", "deals"}, svc) {
			want = 2
		}
		if replicas[svc] < want {
			t.Errorf("the manifests run %d instances of %s, want at least %d", replicas[svc], svc, want)
		}
	}
}

// checkSeedSecret: the NATS seed a container reads comes from the Secret
// fundbridge-<user>, mounted where FUNDBRIDGE_NATS_CREDS points.
func checkSeedSecret(t *testing.T, where string, args []string, env map[string]string, c map[string]any, secrets map[string]string) {
	t.Helper()
	user := credentialUser(args)
	creds := env["FUNDBRIDGE_NATS_CREDS"]
	if user == "" || creds == "" {
		return
	}
	for _, vm := range l(c["volumeMounts"]) {
		vm := m(vm)
		if fmt.Sprint(vm["mountPath"]) != filepath.Dir(creds) {
			continue
		}
		if got := secrets[fmt.Sprint(vm["name"])]; got != "fundbridge-"+user {
			t.Errorf("%s: reads %s from Secret %q, want fundbridge-%s (its own seed only)", where, creds, got, user)
		}
		return
	}
	t.Errorf("%s: nothing is mounted where FUNDBRIDGE_NATS_CREDS (%s) points", where, creds)
}

// checkProbes: liveness on /healthz, readiness on /readyz, on a port the
// process listens on (--health-addr, or the gateway's --http-addr).
func checkProbes(t *testing.T, where string, c map[string]any, env map[string]string) {
	t.Helper()
	ports := map[string]string{}
	for _, p := range l(c["ports"]) {
		ports[fmt.Sprint(m(p)["name"])] = fmt.Sprint(m(p)["containerPort"])
	}
	listens := map[string]bool{}
	for _, v := range []string{"FUNDBRIDGE_HEALTH_ADDR", "FUNDBRIDGE_HTTP_ADDR"} {
		if addr, ok := env[v]; ok {
			_, port, _ := strings.Cut(addr, ":")
			listens[port] = true
		}
	}
	for probe, path := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz"} {
		get := m(m(c[probe])["httpGet"])
		if get == nil {
			t.Errorf("%s has no %s", where, probe)
			continue
		}
		if got := fmt.Sprint(get["path"]); got != path {
			t.Errorf("%s: %s on %s, want %s", where, probe, got, path)
		}
		port := fmt.Sprint(get["port"])
		if named, ok := ports[port]; ok {
			port = named
		}
		if !listens[port] {
			t.Errorf("%s: %s on port %s, where the process does not listen", where, probe, port)
		}
	}
}
