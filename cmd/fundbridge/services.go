package main

import (
	"log/slog"
	"sort"
	"strings"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/jetstream"
	"github.com/fundbridge/fundbridge/services/audit"
	"github.com/fundbridge/fundbridge/services/runtime"
)

// deps is what services are built from.
type deps struct {
	store     *jetstream.Store
	snapshots *jetstream.Snapshots
	registry  *events.Registry
	log       *slog.Logger
}

// catalog lists every service of the product but the gateway, by name.
func catalog(d deps) map[string]runtime.Service {
	return map[string]runtime.Service{
		audit.Name: audit.Service(d.store),
	}
}

// newRegistry registers every event type of the product.
func newRegistry() *events.Registry {
	return events.NewRegistry()
}

func serviceNames() string {
	names := []string{"gateway"}
	for n := range catalog(deps{}) {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
