package keyfile

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadOrCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "svc", "a.key")
	first, err := LoadOrCreate(path, 32)
	if err != nil || len(first) != 32 {
		t.Fatalf("create = %d bytes, %v", len(first), err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v %v, want 0600", fi.Mode(), err)
	}
	if di, _ := os.Stat(filepath.Dir(path)); di.Mode().Perm() != 0o700 {
		t.Errorf("key directory mode %v, want 0700", di.Mode())
	}
	again, err := LoadOrCreate(path, 32)
	if err != nil || !bytes.Equal(first, again) {
		t.Fatalf("load = %v; want the same key", err)
	}
	short := filepath.Join(t.TempDir(), "short.key")
	_ = os.WriteFile(short, []byte("x"), 0o600)
	if _, err := LoadOrCreate(short, 32); err == nil {
		t.Error("a 1-byte key accepted")
	}
}
