package gateway

import (
	"encoding/json"
	"net/http"

	"github.com/fundbridge/fundbridge"
)

// Problem is an RFC 9457 problem detail.
type Problem struct {
	Type     string                  `json:"type"`
	Title    string                  `json:"title"`
	Status   int                     `json:"status"`
	Detail   string                  `json:"detail,omitempty"`
	Instance string                  `json:"instance,omitempty"`
	Code     string                  `json:"code"`
	Errors   []fundbridge.FieldError `json:"errors,omitempty"`
}

// StatusFor maps an error code to its HTTP status.
func StatusFor(code string) int {
	switch code {
	case fundbridge.EINVALID:
		return http.StatusBadRequest
	case fundbridge.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case fundbridge.EFORBIDDEN:
		return http.StatusForbidden
	case fundbridge.ENOTFOUND:
		return http.StatusNotFound
	case fundbridge.ECONFLICT:
		return http.StatusConflict
	case fundbridge.EUNPROCESSABLE:
		return http.StatusUnprocessableEntity
	case fundbridge.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	case fundbridge.ETOOMANY:
		return http.StatusTooManyRequests
	case "method_not_allowed":
		return http.StatusMethodNotAllowed
	case "too_large":
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusInternalServerError
}

// WriteProblem writes err as application/problem+json.
func WriteProblem(w http.ResponseWriter, r *http.Request, err error) {
	code := fundbridge.ErrorCode(err)
	status := StatusFor(code)
	p := Problem{
		Type:     "https://fundbridge.dev/problems/" + code,
		Title:    http.StatusText(status),
		Status:   status,
		Detail:   fundbridge.ErrorMessage(err),
		Instance: r.URL.Path,
		Code:     code,
		Errors:   fundbridge.ErrorFields(err),
	}
	w.Header().Set("Content-Type", "application/problem+json")
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", retryAfterSeconds(err))
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}
