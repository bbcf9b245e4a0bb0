package app

import (
	"errors"
	"io/fs"
	"os"

	"github.com/fundbridge/fundbridge/services/gateway"
)

// previousTokenKeys is the signing key being rotated out, if its file is
// there: tokens it signed are accepted until they expire (SECURITY.md).
func previousTokenKeys(path string) ([][]byte, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return gateway.LoadPreviousKeys(path)
}
