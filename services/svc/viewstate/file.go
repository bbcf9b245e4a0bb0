package viewstate

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"time"
)

// A checkpoint file holds one read model's state with the log position it
// matches, so a restart resumes from there and never pairs a state with
// another position. Layout: the magic line, a uvarint-prefixed JSON
// header, the state as the model encodes it, then a CRC-32C of all that.
// It is written to a temporary file, synced, and renamed over the old one,
// and the directory is synced, so a crash leaves the old file or the new
// one whole. The projections' snapshots are files of this format too.
const magic = "FBPROJ1\n"

// Header describes the state a checkpoint file holds.
type Header struct {
	Name string `json:"name"`
	// Schema is the version of the fold and of the state's encoding: a
	// file of another schema is ignored and the model folded from 0.
	Schema   string `json:"schema"`
	Position uint64 `json:"position"` // the last append the state reflects
	Events   uint64 `json:"events"`   // folded into the state since position 0
	// LastEventID is the ID of the event at Position, to tell the log the
	// state was folded from from another one that reached as far.
	LastEventID string    `json:"last_event_id,omitempty"`
	SavedAt     time.Time `json:"saved_at"`
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Path is the checkpoint file of the named model in dir.
func Path(dir, name string) string { return filepath.Join(dir, name+".snapshot") }

// Write writes header and state to dir atomically, creating dir if need be.
func Write(dir string, h Header, state []byte) error {
	head, err := json.Marshal(h)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return WriteFileAtomic(Path(dir, h.Name), func(w io.Writer) error {
		sum := crc32.New(castagnoli)
		bw := bufio.NewWriterSize(io.MultiWriter(w, sum), 1<<16)
		bw.WriteString(magic)
		bw.Write(binary.AppendUvarint(nil, uint64(len(head))))
		bw.Write(head)
		bw.Write(state)
		if err := bw.Flush(); err != nil {
			return err
		}
		_, err := w.Write(binary.BigEndian.AppendUint32(nil, sum.Sum32()))
		return err
	})
}

// Read reads and checks a checkpoint file. A missing file is
// fs.ErrNotExist; a damaged one an error saying how.
func Read(path string) (Header, []byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Header{}, nil, err
	}
	if len(data) < len(magic)+4 || string(data[:len(magic)]) != magic {
		return Header{}, nil, errors.New("not a checkpoint file")
	}
	body, tail := data[:len(data)-4], data[len(data)-4:]
	if crc32.Checksum(body, castagnoli) != binary.BigEndian.Uint32(tail) {
		return Header{}, nil, errors.New("checksum mismatch: the file is damaged")
	}
	rest := body[len(magic):]
	n, size := binary.Uvarint(rest)
	if size <= 0 || n > uint64(len(rest)-size) {
		return Header{}, nil, errors.New("malformed header")
	}
	var h Header
	if err := json.Unmarshal(rest[size:size+int(n)], &h); err != nil {
		return Header{}, nil, fmt.Errorf("header: %w", err)
	}
	return h, rest[size+int(n):], nil
}

// RemoveLeftovers deletes the temporary files of saves of the named model
// that a crash cut short.
func RemoveLeftovers(dir, name string) {
	leftovers, _ := filepath.Glob(Path(dir, name) + ".*.tmp")
	for _, f := range leftovers {
		os.Remove(f)
	}
}

// WriteFileAtomic replaces path with what write produces: a temporary
// file in the same directory, synced, renamed, and the directory synced.
func WriteFileAtomic(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = write(tmp); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
