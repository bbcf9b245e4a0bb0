package datadir_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fundbridge/fundbridge/internal/datadir"
)

func TestASecondOwnerIsRefusedNamingTheFirst(t *testing.T) {
	dir := t.TempDir()
	first, err := datadir.Acquire(dir, datadir.Holder{PID: 4242, Command: "fundbridge dev", Started: datadir.Self().Started})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.SetNATS("nats://127.0.0.1:4222"); err != nil {
		t.Fatal(err)
	}
	_, err = datadir.Acquire(dir, datadir.Self())
	var held *datadir.HeldError
	if !errors.As(err, &held) {
		t.Fatalf("second Acquire: %v, want a HeldError", err)
	}
	if held.Holder.PID != 4242 || held.Holder.NATS != "nats://127.0.0.1:4222" || !strings.Contains(err.Error(), "pid 4242 (fundbridge dev)") {
		t.Errorf("refusal %q, holder %+v", err, held.Holder)
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	again, err := datadir.Acquire(dir, datadir.Self())
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	again.Release()
}

// TestAnotherProcessIsRefused: the lock holds across processes, and dies
// with its holder.
func TestAnotherProcessIsRefused(t *testing.T) {
	if os.Getenv("DATADIR_CHILD") != "" {
		_, err := datadir.Acquire(os.Getenv("DATADIR_CHILD"), datadir.Self())
		if err != nil {
			os.Stdout.WriteString(err.Error())
			os.Exit(3)
		}
		os.Exit(0)
	}
	dir := t.TempDir()
	l, err := datadir.Acquire(dir, datadir.Self())
	if err != nil {
		t.Fatal(err)
	}
	child := func() (string, int) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestAnotherProcessIsRefused$")
		cmd.Env = append(os.Environ(), "DATADIR_CHILD="+dir)
		out, _ := cmd.Output()
		return string(out), cmd.ProcessState.ExitCode()
	}
	if out, code := child(); code != 3 || !strings.Contains(out, "in use by pid") {
		t.Errorf("child while held: exit %d, %q", code, out)
	}
	l.Release()
	if out, code := child(); code != 0 {
		t.Errorf("child after release: exit %d, %q", code, out)
	}
}

// A directory inside another data directory (its nats/ subdirectory, say)
// is refused, held or not, naming the outer one; another program's file
// named LOCK above it is not mistaken for one.
func TestADirectoryInsideAnotherIsRefused(t *testing.T) {
	outer := t.TempDir()
	l, err := datadir.Acquire(outer, datadir.Self())
	if err != nil {
		t.Fatal(err)
	}
	for _, held := range []bool{true, false} {
		_, err := datadir.Acquire(filepath.Join(outer, "nats"), datadir.Self())
		if err == nil || !strings.Contains(err.Error(), "inside the data directory "+outer) {
			t.Errorf("held %v: %v, want a refusal naming %s", held, err, outer)
		}
		l.Release()
	}
	if _, err := os.Stat(filepath.Join(outer, "nats")); !os.IsNotExist(err) {
		t.Errorf("the refused directory was made: %v", err)
	}

	leveldb := t.TempDir()
	if err := os.WriteFile(filepath.Join(leveldb, datadir.FileName), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	inner, err := datadir.Acquire(filepath.Join(leveldb, "data"), datadir.Self())
	if err != nil {
		t.Fatalf("under another program's LOCK: %v", err)
	}
	inner.Release()
}

// A directory of other files is no data directory: the product refuses to
// write its log among them, naming a few, and writes nothing there. A new
// or empty directory, one with only what Fundbridge puts in one before it
// starts (credentials), a volume's lost+found or hidden files, and one a
// Fundbridge process made are taken.
func TestADirectoryOfOtherFilesIsRefused(t *testing.T) {
	home := t.TempDir()
	for _, name := range []string{"notes.txt", "photos", "go.mod", "thesis.pdf"} {
		if err := os.WriteFile(filepath.Join(home, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_, err := datadir.Acquire(home, datadir.Self())
	if err == nil || !strings.Contains(err.Error(), "not Fundbridge's (go.mod, notes.txt, photos and 1 more)") {
		t.Errorf("a home directory: %v; want a refusal naming its files", err)
	}
	if _, err := os.Stat(filepath.Join(home, datadir.FileName)); !os.IsNotExist(err) {
		t.Errorf("the refused directory got a %s: %v", datadir.FileName, err)
	}

	fresh := t.TempDir()
	for _, name := range []string{"credentials", "lost+found", ".gitkeep"} {
		if err := os.Mkdir(filepath.Join(fresh, name), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, dir := range []string{filepath.Join(t.TempDir(), "new"), t.TempDir(), fresh} {
		l, err := datadir.Acquire(dir, datadir.Self())
		if err != nil {
			t.Errorf("%s: %v", dir, err)
			continue
		}
		l.Release()
		// Made by Fundbridge now: anything beside its lock is its own affair.
		if err := os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if l, err := datadir.Acquire(dir, datadir.Self()); err != nil {
			t.Errorf("%s, a second time: %v", dir, err)
		} else {
			l.Release()
		}
	}
}
