package natsauth_test

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"

	"github.com/fundbridge/fundbridge/internal/natsauth"
)

func TestCredentialsAreTheOwnersAndKeptAcrossStarts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "credentials")
	users := []string{natsauth.Admin, natsauth.Gateway, "funds"}
	first, err := natsauth.Ensure(dir, users)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("directory: %v %v, want 0700", fi.Mode().Perm(), err)
	}
	for _, u := range users {
		fi, err := os.Stat(first.File(u))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want 0600", u, fi.Mode().Perm(), err)
		}
		if !nkeys.IsValidPublicUserKey(first.PublicKey(u)) {
			t.Errorf("%s: public key %q", u, first.PublicKey(u))
		}
	}
	// A loosened file is tightened again; the keys stay the same.
	if err := os.Chmod(first.File("funds"), 0o644); err != nil {
		t.Fatal(err)
	}
	again, err := natsauth.Ensure(dir, users)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if again.PublicKey(u) != first.PublicKey(u) {
			t.Errorf("%s: a new key on the second start", u)
		}
	}
	if fi, _ := os.Stat(first.File("funds")); fi.Mode().Perm() != 0o600 {
		t.Errorf("a loosened seed stays %v", fi.Mode().Perm())
	}
	// Not a user seed: refused, naming the file.
	kp, _ := nkeys.CreateAccount()
	seed, _ := kp.Seed()
	if err := os.WriteFile(filepath.Join(dir, "views.nk"), seed, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := natsauth.Ensure(dir, []string{"views"}); err == nil {
		t.Error("an account seed was taken as a user's")
	}
}

func TestPermissions(t *testing.T) {
	creds, err := natsauth.Ensure(t.TempDir(), []string{natsauth.Admin, natsauth.Gateway, "funds", "mystery"})
	if err != nil {
		t.Fatal(err)
	}
	// Every user needs permissions: one the product does not know is an error.
	if _, err := creds.Users(map[string][]string{"funds": {"fund"}}, nil); err == nil {
		t.Error("a user without permissions was let through")
	}
	users, err := creds.Users(map[string][]string{"funds": {"fund"}, "mystery": nil}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		switch u.Nkey {
		case creds.PublicKey(natsauth.Admin):
			if u.Permissions != nil {
				t.Errorf("admin limited: %+v", u.Permissions)
			}
		case creds.PublicKey("funds"):
			pub := u.Permissions.Publish
			if !slices.Contains(pub.Allow, "fb.ev.fund.>") || slices.Contains(pub.Allow, "fb.ev.>") || !slices.Contains(pub.Deny, "$JS.API.STREAM.DELETE.>") {
				t.Errorf("funds publishes %+v", pub)
			}
		case creds.PublicKey(natsauth.Gateway):
			if !slices.Equal(u.Permissions.Publish.Allow, []string{"fb.svc.>"}) {
				t.Errorf("gateway publishes %+v", u.Permissions.Publish)
			}
		}
	}
}

// The generated authorization.conf gives an external nats-server the same
// users and permissions as the embedded one.
func TestAuthorizationConfIsWhatTheServerReads(t *testing.T) {
	dir := t.TempDir()
	creds, err := natsauth.Ensure(filepath.Join(dir, "credentials"), []string{natsauth.Admin, natsauth.Gateway, "funds"})
	if err != nil {
		t.Fatal(err)
	}
	users, err := creds.Users(map[string][]string{"funds": {"fund"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	conf, err := natsauth.AuthorizationConf(users, creds.Names())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "authorization.conf"), conf, 0o600); err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(dir, "nats-server.conf")
	if err := os.WriteFile(main, []byte("port: -1\ninclude authorization.conf\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(main)
	if err != nil {
		t.Fatalf("%v\n%s", err, conf)
	}
	if len(opts.Nkeys) != len(users) {
		t.Fatalf("server reads %d users, want %d", len(opts.Nkeys), len(users))
	}
	for i, u := range users {
		got := opts.Nkeys[i]
		if got.Nkey != u.Nkey || !reflect.DeepEqual(got.Permissions, u.Permissions) {
			t.Errorf("user %d: server reads %+v %+v, want %+v %+v", i, got.Nkey, got.Permissions, u.Nkey, u.Permissions)
		}
	}
}
