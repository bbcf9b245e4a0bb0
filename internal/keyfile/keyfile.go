// Package keyfile keeps a process's secret keys in files only their owner
// can read, created with random bytes on first use.
package keyfile

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// LoadOrCreate reads the key at path, or creates one of size random bytes
// (mode 0600, in a directory of mode 0700) when there is none. A key
// shorter than size is refused.
func LoadOrCreate(path string, size int) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err == nil {
		if len(key) < size {
			return nil, fmt.Errorf("key %s: %d bytes, want at least %d", path, len(key), size)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("key: %w", err)
	}
	key = make([]byte, size)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	// O_EXCL: two processes starting at once must not each write a key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadOrCreate(path, size)
	}
	if err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, fmt.Errorf("key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	return key, nil
}
