// Package datadir gives a data directory one owner at a time: whatever
// opens one (fundbridge dev, serve views, an offline projections rebuild)
// holds an exclusive lock on it, and a second process refuses at once,
// naming the first. Two NATS servers on one JetStream directory each
// rewrite the other's files: that is how a second process once shrank a
// log of 13,733 acknowledged applications to 3 messages.
package datadir

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// FileName is the lock file inside the data directory. It holds the
// holder's description as JSON, for the refusal of the next one.
const FileName = "LOCK"

// Holder describes the process that holds a data directory.
type Holder struct {
	PID     int       `json:"pid"`
	Command string    `json:"command"`
	Started time.Time `json:"started"`
	// NATS is the holder's NATS URL once it serves one: an online
	// projections rebuild goes there instead of refusing.
	NATS string `json:"nats,omitempty"`
}

func (h Holder) String() string {
	s := fmt.Sprintf("pid %d (%s), started %s", h.PID, h.Command, h.Started.Local().Format(time.DateTime))
	if h.NATS != "" {
		s += ", NATS " + h.NATS
	}
	return s
}

// Self describes this process, its secrets left out of its command line.
func Self() Holder {
	return Holder{PID: os.Getpid(), Command: strings.Join(redacted(os.Args), " "), Started: time.Now().UTC().Truncate(time.Second)}
}

// redacted is args with the value of any flag that names a password,
// secret or token replaced: the holder's description is written in the
// directory and shown to whoever starts a second process on it.
func redacted(args []string) []string {
	out := make([]string, len(args))
	secret := func(flag string) bool {
		flag = strings.ToLower(flag)
		return strings.HasPrefix(flag, "-") && (strings.Contains(flag, "password") || strings.Contains(flag, "secret") || strings.Contains(flag, "token"))
	}
	for i, a := range args {
		out[i] = a
		if name, _, hasValue := strings.Cut(a, "="); hasValue && secret(name) {
			out[i] = name + "=…"
		} else if i > 0 && secret(args[i-1]) && !strings.Contains(args[i-1], "=") && !strings.HasPrefix(a, "-") {
			out[i] = "…"
		}
	}
	return out
}

// HeldError is the refusal: another process holds the directory.
type HeldError struct {
	Dir    string
	Holder Holder // zero if its description could not be read
}

func (e *HeldError) Error() string {
	who := "another process"
	if e.Holder.PID != 0 {
		who = e.Holder.String()
	}
	return fmt.Sprintf("data directory %s is in use by %s; stop it first or use another --data-dir", e.Dir, who)
}

// Lock is a held data directory.
type Lock struct {
	dir    string
	f      *os.File
	holder Holder
}

// Acquire creates dir if needed and locks it for h, or fails at once with
// a *HeldError if another process (or another Lock in this one) holds it.
// The lock ends with Release or with the process, however it ends.
func Acquire(dir string, h Holder) (*Lock, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	if outer := enclosing(abs); outer != "" {
		return nil, fmt.Errorf("data directory %s is inside the data directory %s (it holds its %s): give that directory itself, or one outside it; "+
			"a product started inside another's files would start an empty log beside the real one, or change its files", abs, outer, FileName)
	}
	if err := foreign(abs); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(abs, FileName), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("data directory lock: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			held := &HeldError{Dir: abs}
			held.Holder, _ = ReadHolder(abs)
			return nil, held
		}
		return nil, fmt.Errorf("data directory lock %s: %w", abs, err)
	}
	l := &Lock{dir: abs, f: f}
	if err := l.write(h); err != nil {
		l.Release()
		return nil, err
	}
	return l, nil
}

// ours are the names a data directory holds before it has a lock file
// (the NATS credentials written by "fundbridge nats credentials", say),
// and the lost+found of a volume mounted as one.
var ours = map[string]bool{FileName: true, "nats": true, "credentials": true, "gateway": true, "identity": true,
	"projections": true, "views": true, "lost+found": true}

// foreign refuses a directory that holds other files and is no data
// directory (it has no lock file): --data-dir ~ or a project's folder,
// given by mistake, would get a log, keys and views written among its
// files. Hidden files (.gitkeep, .DS_Store) do not count.
func foreign(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, FileName)); err == nil {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("data directory %s: %w", dir, err)
	}
	var others []string
	for _, e := range entries {
		if !ours[e.Name()] && !strings.HasPrefix(e.Name(), ".") {
			others = append(others, e.Name())
		}
	}
	if len(others) == 0 {
		return nil
	}
	list := strings.Join(others[:min(len(others), 3)], ", ")
	if len(others) > 3 {
		list += fmt.Sprintf(" and %d more", len(others)-3)
	}
	return fmt.Errorf("data directory %s holds files that are not Fundbridge's (%s) and is no data directory (it has no %s): "+
		"give a new or empty directory, or one Fundbridge made; the product would write its log, keys and views among those files", dir, list, FileName)
}

// enclosing is the nearest data directory strictly above dir (one with
// our lock file, held or not), "" if there is none. Another program's file
// of the same name (LevelDB keeps one) does not read as a holder.
func enclosing(dir string) string {
	for parent := filepath.Dir(dir); parent != dir; dir, parent = parent, filepath.Dir(parent) {
		if h, err := ReadHolder(parent); err == nil && h.Command != "" {
			return parent
		}
	}
	return ""
}

// Dir is the absolute path of the locked directory.
func (l *Lock) Dir() string { return l.dir }

// SetNATS records the holder's NATS URL once it serves one.
func (l *Lock) SetNATS(url string) error {
	h := l.holder
	h.NATS = url
	return l.write(h)
}

func (l *Lock) write(h Holder) error {
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	if err := l.f.Truncate(0); err != nil {
		return fmt.Errorf("data directory lock: %w", err)
	}
	if _, err := l.f.WriteAt(append(b, '\n'), 0); err != nil {
		return fmt.Errorf("data directory lock: %w", err)
	}
	l.holder = h
	return nil
}

// Release unlocks the directory. The file stays: removing it would let a
// third process lock a new file while a second still waits on the old.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the descriptor drops the flock
	l.f = nil
	return err
}

// ReadHolder reads who holds (or last held) dir.
func ReadHolder(dir string) (Holder, error) {
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		return Holder{}, err
	}
	var h Holder
	if err := json.Unmarshal(b, &h); err != nil {
		return Holder{}, fmt.Errorf("lock file of %s: %w", dir, err)
	}
	return h, nil
}
