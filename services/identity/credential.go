package identity

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/fundbridge/fundbridge/services/identity/identityapi"
)

// Password hashes stay with identity. The event that registers a user is
// read by every service that folds the log, by the audit trail and by
// anyone who may read the event stream on NATS; a bcrypt hash there could
// be taken away and guessed at offline. So the hash is sealed with
// AES-256-GCM under a key that only identity holds (a file in its data
// directory, never in the log), with the user's ID as associated data so
// that a sealed hash cannot be moved onto another user. The log stays the
// one source of truth: a rebuild, a replica or a restore has every
// credential, and without the key none of them opens.
//
// A sealed credential is "aesgcm:<key id>:<base64 of nonce|ciphertext>";
// the key ID (a hash of the key) lets a later key rotation tell keys apart.

// CredentialKeySize is the size of the key, in bytes.
const CredentialKeySize = 32

// sealer seals and opens password hashes.
type sealer struct {
	aead  cipher.AEAD
	keyID string
}

func newSealer(key []byte) (*sealer, error) {
	if len(key) != CredentialKeySize {
		return nil, fmt.Errorf("credential key: %d bytes, want %d", len(key), CredentialKeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("credential key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("credential key: %w", err)
	}
	id := sha256.Sum256(append([]byte("fundbridge identity credential key\x00"), key...))
	return &sealer{aead: aead, keyID: hex.EncodeToString(id[:4])}, nil
}

func credentialAD(userID string) []byte { return []byte("user.registered\x00" + userID) }

func (s *sealer) seal(userID string, hash []byte) (string, error) {
	return s.sealWith(credentialAD(userID), hash)
}

// sealWith seals plaintext bound to the associated data ad.
func (s *sealer) sealWith(ad, plaintext []byte) (string, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	sealed := s.aead.Seal(nonce, nonce, plaintext, ad)
	return "aesgcm:" + s.keyID + ":" + base64.RawStdEncoding.EncodeToString(sealed), nil
}

var errCredential = errors.New("credential cannot be opened")

func (s *sealer) open(userID, credential string) ([]byte, error) {
	return s.openWith(credentialAD(userID), credential)
}

// openWith opens what sealWith sealed with the same ad.
func (s *sealer) openWith(ad []byte, text string) ([]byte, error) {
	scheme, rest, _ := strings.Cut(text, ":")
	keyID, body, _ := strings.Cut(rest, ":")
	if scheme != "aesgcm" {
		// Never quote it: whatever is there may be a secret.
		return nil, fmt.Errorf("%w: not sealed by identity", errCredential)
	}
	if keyID != s.keyID {
		return nil, fmt.Errorf("%w: sealed with key %s, identity holds %s", errCredential, keyID, s.keyID)
	}
	sealed, err := base64.RawStdEncoding.DecodeString(body)
	if err != nil || len(sealed) < s.aead.NonceSize() {
		return nil, fmt.Errorf("%w: malformed", errCredential)
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], ad)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errCredential, err)
	}
	return plain, nil
}

// passwordHash is the bcrypt hash of a registered user: opened from its
// credential, or the clear hash of a user registered by a v1 event.
func (s *Service) passwordHash(u identityapi.UserRegistered) ([]byte, error) {
	if u.Credential == "" && u.LegacyHash != "" {
		return []byte(u.LegacyHash), nil
	}
	if s.sealer == nil {
		return nil, errors.New("identity has no credential key")
	}
	return s.sealer.open(u.UserID, u.Credential)
}
