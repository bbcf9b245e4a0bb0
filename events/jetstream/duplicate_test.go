package jetstream

import (
	"fmt"
	"testing"

	njs "github.com/nats-io/nats.go/jetstream"
)

// Two instances of a reactor may send one command at once: JetStream
// answers the second "duplicate message id is in process", which must be
// retryable (and then a duplicate), not an internal error.
func TestDuplicateInProcessIsRetryable(t *testing.T) {
	inProcess := fmt.Errorf("nats: %w", &njs.APIError{Code: 409, ErrorCode: jsDuplicateInProcess, Description: "duplicate message id is in process"})
	if !isDuplicateInProcess(inProcess) {
		t.Error("10158 not recognised")
	}
	if isDuplicateInProcess(&njs.APIError{Code: 400, ErrorCode: njs.JSErrCodeStreamWrongLastSequence}) {
		t.Error("a wrong last sequence taken for a duplicate in process")
	}
}
