package identity

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/fundbridge/fundbridge/internal/jsget"
	"github.com/fundbridge/fundbridge/services/identity/identityapi"
)

// Personal data is erasable by crypto-shredding: a user's email and name
// are sealed in their events with a key of their own (PersonKeySize bytes,
// AES-256-GCM), kept outside the log; erasure destroys the key, and the
// events, which never change, stay as ciphertext no one can open.

// PersonKeysBucket is the JetStream key-value bucket holding the person
// keys, one per user ID, each sealed with identity's credential key. Only
// identity reads or writes it: no other service shows names or emails.
const PersonKeysBucket = "fb_person_keys"

// PersonKeySize is the size of a person's key, in bytes.
const PersonKeySize = 32

// errNoPersonKey says a person's key is gone (erased) or was never made.
var errNoPersonKey = errors.New("no key for this person")

// PersonKeys keeps the person keys, as identity sealed them.
type PersonKeys interface {
	// Create stores sealed as the user's key unless they have one; it
	// returns the key kept, so that a retried registration reuses it.
	Create(ctx context.Context, userID string, sealed []byte) ([]byte, error)
	// Get returns the user's key, or errNoPersonKey.
	Get(ctx context.Context, userID string) ([]byte, error)
	// Destroy removes the user's key for good; destroying a missing key
	// is no error.
	Destroy(ctx context.Context, userID string) error
}

// KVPersonKeys keeps person keys in the JetStream bucket PersonKeysBucket:
// every identity instance reads the same keys, an erasure in one is seen
// by all, and the server's fsync-always setting makes a stored key durable
// before it is acknowledged. A destroyed key is purged: no revision of it
// stays in the bucket.
type KVPersonKeys struct {
	nc *nats.Conn

	mu sync.Mutex
	kv jetstream.KeyValue
}

// NewKVPersonKeys keeps person keys over nc; the bucket is bound on first
// use. Identity only binds: the admin creates the bucket
// (CreatePersonKeysBucket), as it does the streams.
func NewKVPersonKeys(nc *nats.Conn) *KVPersonKeys { return &KVPersonKeys{nc: nc} }

// PersonKeysConfig is the bucket as the admin creates it: file storage, one
// revision a key (a destroyed key leaves none behind), replicas as the
// event stream's.
func PersonKeysConfig(replicas int) jetstream.KeyValueConfig {
	if replicas < 1 {
		replicas = 1
	}
	return jetstream.KeyValueConfig{Bucket: PersonKeysBucket, History: 1, Storage: jetstream.FileStorage, Replicas: replicas,
		Description: "identity's per-person keys (sealed); destroying one erases that person's data"}
}

// CreatePersonKeysBucket creates the bucket, or brings an existing one to
// PersonKeysConfig. It is the admin's work: identity's NATS user may not
// create or change streams.
func CreatePersonKeysBucket(ctx context.Context, nc *nats.Conn, replicas int) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("person keys: %w", err)
	}
	if _, err := js.CreateOrUpdateKeyValue(ctx, PersonKeysConfig(replicas)); err != nil {
		return fmt.Errorf("person keys bucket %s: %w", PersonKeysBucket, err)
	}
	return nil
}

func (k *KVPersonKeys) bucket(ctx context.Context) (jetstream.KeyValue, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.kv != nil {
		return k.kv, nil
	}
	js, err := jetstream.New(k.nc)
	if err != nil {
		return nil, fmt.Errorf("person keys: %w", err)
	}
	kv, err := js.KeyValue(ctx, PersonKeysBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, fmt.Errorf("person keys bucket %s does not exist: the admin creates it (fundbridge nats streams): %w", PersonKeysBucket, err)
	}
	if err != nil {
		return nil, fmt.Errorf("person keys bucket %s: %w", PersonKeysBucket, err)
	}
	k.kv = kv
	return kv, nil
}

// Create implements PersonKeys.
func (k *KVPersonKeys) Create(ctx context.Context, userID string, sealed []byte) ([]byte, error) {
	kv, err := k.bucket(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := kv.Create(ctx, userID, sealed); err == nil {
		return sealed, nil
	} else if !errors.Is(err, jetstream.ErrKeyExists) {
		return nil, fmt.Errorf("store person key: %w", err)
	}
	return k.Get(ctx, userID)
}

// Get implements PersonKeys.
func (k *KVPersonKeys) Get(ctx context.Context, userID string) ([]byte, error) {
	kv, err := k.bucket(ctx)
	if err != nil {
		return nil, err
	}
	e, err := kv.Get(ctx, userID)
	switch {
	case err == nil:
		return e.Value(), nil
	case errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted):
		// Any replica of the bucket may answer a get, and one that is
		// behind misses a key stored a moment ago. Taking that for an
		// erasure would hide the person for good, so the leader decides.
		return k.fromLeader(ctx, userID)
	}
	return nil, fmt.Errorf("read person key: %w", err)
}

// fromLeader reads the user's key from the bucket's leader, which has
// every key the bucket acknowledged.
func (k *KVPersonKeys) fromLeader(ctx context.Context, userID string) ([]byte, error) {
	m, err := jsget.FromLeader(ctx, k.nc, "KV_"+PersonKeysBucket, jsget.Request{LastFor: "$KV." + PersonKeysBucket + "." + userID})
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound):
		return nil, errNoPersonKey
	case err != nil:
		return nil, fmt.Errorf("read person key from the bucket's leader: %w", err)
	}
	if op := m.Header.Get(kvOperation); op == "DEL" || op == "PURGE" {
		return nil, errNoPersonKey
	}
	return m.Data, nil
}

// kvOperation is the header a KV bucket marks a deleted or purged key
// with (nats.go keeps the name to itself).
const kvOperation = "KV-Operation"

// Destroy implements PersonKeys.
func (k *KVPersonKeys) Destroy(ctx context.Context, userID string) error {
	kv, err := k.bucket(ctx)
	if err != nil {
		return err
	}
	if err := kv.Purge(ctx, userID); err != nil {
		return fmt.Errorf("destroy person key: %w", err)
	}
	return nil
}

// personal is what UserRegistered.Personal seals.
type personal struct {
	Email string `json:"email"`
	Name  string `json:"name"`
}

func personKeyAD(userID string) []byte { return []byte("person key\x00" + userID) }
func personalAD(userID string) []byte  { return []byte("user.personal\x00" + userID) }

// sealPersonal seals the user's email and name with their key, making the
// key (sealed with the credential key) when they have none.
func (s *Service) sealPersonal(ctx context.Context, userID string, p personal) (string, error) {
	if s.sealer == nil {
		return "", fmt.Errorf("no personal data can be kept: %w", s.sealerErr)
	}
	if s.keys == nil {
		return "", errors.New("no personal data can be kept: identity has no person keys")
	}
	key := make([]byte, PersonKeySize)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("person key: %w", err)
	}
	sealedKey, err := s.sealer.sealWith(personKeyAD(userID), key)
	if err != nil {
		return "", err
	}
	kept, err := s.keys.Create(ctx, userID, []byte(sealedKey))
	if err != nil {
		return "", err
	}
	person, err := s.personSealer(userID, kept)
	if err != nil {
		return "", err
	}
	data, _ := json.Marshal(p)
	return person.sealWith(personalAD(userID), data)
}

// personSealer opens a person's stored key.
func (s *Service) personSealer(userID string, stored []byte) (*sealer, error) {
	key, err := s.sealer.openWith(personKeyAD(userID), string(stored))
	if err != nil {
		return nil, fmt.Errorf("person key of %s: %w", userID, err)
	}
	return newSealer(key)
}

// openPersonal reads a registered user's email and name. An erased user
// (no key) is reported with errNoPersonKey.
func (s *Service) openPersonal(ctx context.Context, u identityapi.UserRegistered) (personal, error) {
	if u.Personal == "" { // written before v3: in the clear
		return personal{Email: u.Email, Name: u.Name}, nil
	}
	if s.sealer == nil || s.keys == nil {
		return personal{}, errors.New("identity holds no credential key or person keys")
	}
	stored, err := s.keys.Get(ctx, u.UserID)
	if err != nil {
		return personal{}, err
	}
	person, err := s.personSealer(u.UserID, stored)
	if err != nil {
		return personal{}, err
	}
	data, err := person.openWith(personalAD(u.UserID), u.Personal)
	if err != nil {
		return personal{}, fmt.Errorf("personal data of %s: %w", u.UserID, err)
	}
	var p personal
	if err := json.Unmarshal(data, &p); err != nil {
		return personal{}, fmt.Errorf("personal data of %s: %w", u.UserID, err)
	}
	return p, nil
}
