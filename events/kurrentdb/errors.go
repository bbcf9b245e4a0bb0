package kurrentdb

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"

	"github.com/fundbridge/fundbridge/events"
)

// hasCode says whether err is a KurrentDB error of this code.
func hasCode(err error, code kurrentdb.ErrorCode) bool {
	var kerr *kurrentdb.Error
	return errors.As(err, &kerr) && kerr.Code() == code
}

func isWrongExpectedVersion(err error) bool {
	return hasCode(err, kurrentdb.ErrorCodeWrongExpectedVersion) || hasCode(err, kurrentdb.ErrorCodeStreamRevisionConflict)
}

// reportedVersion is the actual version the server reported with a wrong
// expected version. It saves a read, and unlike a read it cannot miss an
// append the server has checked against but not yet indexed.
func reportedVersion(err error) (uint64, bool) {
	var kerr *kurrentdb.Error
	if !errors.As(err, &kerr) || kerr.Err() == nil {
		return 0, false
	}
	var conflict *kurrentdb.StreamRevisionConflictError
	if errors.As(kerr.Err(), &conflict) {
		switch actual := conflict.ActualRevision.(type) {
		case kurrentdb.NoStream:
			return 0, true
		case kurrentdb.StreamRevision:
			return actual.Value + 1, true
		}
		return 0, false
	}
	return parseCurrentRevision(kerr.Err().Error())
}

// parseCurrentRevision reads the version out of the client's message
// "wrong expected version: expecting '…' but got '<revision>|no_stream'",
// the only place the client puts it.
func parseCurrentRevision(msg string) (uint64, bool) {
	const marker = "but got '"
	i := strings.LastIndex(msg, marker)
	if i < 0 {
		return 0, false
	}
	rest := msg[i+len(marker):]
	j := strings.IndexByte(rest, '\'')
	if j < 0 {
		return 0, false
	}
	if rest[:j] == "no_stream" {
		return 0, true
	}
	rev, err := strconv.ParseUint(rest[:j], 10, 64)
	if err != nil || rev == math.MaxUint64 {
		return 0, false
	}
	return rev + 1, true
}

// unavailable marks failures a retry may cure. An append that failed this
// way may have been stored: the caller retries with the same IDs or key.
func unavailable(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return &events.UnavailableError{Err: err}
	}
	var kerr *kurrentdb.Error
	if errors.As(err, &kerr) {
		switch kerr.Code() {
		case kurrentdb.ErrorUnavailable, kurrentdb.ErrorCodeDeadlineExceeded, kurrentdb.ErrorCodeConnectionClosed,
			kurrentdb.ErrorAborted, kurrentdb.ErrorCodeNotLeader:
			return &events.UnavailableError{Err: err}
		}
	}
	return err
}
