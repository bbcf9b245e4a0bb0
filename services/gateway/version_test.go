package gateway

import (
	"reflect"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/views/viewsapi"
)

// The ETag is looked for in replies that can carry a version, and only
// there: lists and views are not decoded again for nothing.
func TestMayCarryVersion(t *testing.T) {
	type inner struct {
		Version uint64 `json:"version"`
	}
	type embedded struct {
		inner
		Name string `json:"name"`
	}
	type untagged struct{ Version uint64 }
	type renamed struct {
		Version uint64 `json:"v"`
		At      time.Time
	}
	type hidden struct {
		Version uint64 `json:"-"`
	}
	for _, c := range []struct {
		t    reflect.Type
		want bool
	}{
		{nil, true},
		{reflect.TypeFor[inner](), true},
		{reflect.TypeFor[*embedded](), true},
		{reflect.TypeFor[untagged](), true},
		{reflect.TypeFor[map[string]any](), true},
		{reflect.TypeFor[renamed](), false},
		{reflect.TypeFor[hidden](), false},
		{reflect.TypeFor[applicationsapi.CompanyView](), true},
		{reflect.TypeFor[applicationsapi.ListResult[applicationsapi.ApplicationView]](), false},
		{reflect.TypeFor[viewsapi.LifecycleResult](), false},
	} {
		if got := mayCarryVersion(c.t); got != c.want {
			t.Errorf("%v: %v, want %v", c.t, got, c.want)
		}
	}
}
