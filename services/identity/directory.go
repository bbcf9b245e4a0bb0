package identity

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/fundbridge/fundbridge/services/identity/identityapi"
	"github.com/fundbridge/fundbridge/services/svc/viewstate"
)

// directoryVersion names the directory's fold and its checkpoint's
// encoding: change it with either, and checkpoints are folded again.
const directoryVersion = "identity/1"

// directory is the service's user directory as viewstate checkpoints it.
// The checkpoint holds each user as the log does: sealed email and name
// (v3) stay sealed and are opened again with the person's key on restore,
// so the file holds no personal data the log does not, and an erased
// person (whose key is gone) stays erased.
type directory struct{ s *Service }

type directoryState struct {
	Users  map[string]identityapi.UserRegistered
	Erased map[string]bool
	Orgs   map[string]identityapi.Org
}

// Capture takes the directory between appends, with sealed users' opened
// email and name left out.
func (d directory) Capture() func() ([]byte, error) {
	s := d.s
	s.mu.RLock()
	st := directoryState{Users: make(map[string]identityapi.UserRegistered, len(s.byID)), Erased: maps.Clone(s.erased), Orgs: maps.Clone(s.orgByID)}
	for id, u := range s.byID {
		if u.Personal != "" || s.erased[id] {
			u.Email, u.Name = "", ""
		}
		st.Users[id] = u
	}
	s.mu.RUnlock()
	return func() ([]byte, error) { return viewstate.EncodeState(Name, st) }
}

// Restore reads a checkpoint and opens each sealed user's email and name
// with the person's key; a key that is gone means the person was erased,
// as when folding. A key store that cannot answer fails the restore, and
// the view folds from 0 instead.
func (d directory) Restore(data []byte) error {
	var st directoryState
	if err := viewstate.DecodeState(Name, data, &st); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	byID, byEmail, erased := viewstate.Map(st.Users), map[string]identityapi.UserRegistered{}, viewstate.Map(st.Erased)
	for id, u := range byID {
		if !erased[id] {
			person, err := d.s.openPersonal(ctx, u)
			switch {
			case errors.Is(err, errNoPersonKey):
				erased[id] = true
			case err != nil:
				return fmt.Errorf("user %s: %w", id, err)
			default:
				u.Email, u.Name = person.Email, person.Name
				byEmail[u.Email] = u
			}
		}
		if erased[id] {
			u.Email, u.Name = "", identityapi.ErasedName
		}
		byID[id] = u
	}
	s := d.s
	s.mu.Lock()
	s.byID, s.byEmail, s.erased, s.orgByID = byID, byEmail, erased, viewstate.Map(st.Orgs)
	s.mu.Unlock()
	return nil
}

// Reset empties the directory.
func (d directory) Reset() {
	s := d.s
	s.mu.Lock()
	s.byID, s.byEmail, s.erased, s.orgByID = map[string]identityapi.UserRegistered{}, map[string]identityapi.UserRegistered{}, map[string]bool{}, map[string]identityapi.Org{}
	s.mu.Unlock()
}
