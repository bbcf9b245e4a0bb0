package main

import (
	"context"
	"log/slog"
	"sort"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/jetstream"
	"github.com/fundbridge/fundbridge/services/audit"
	"github.com/fundbridge/fundbridge/services/identity"
	"github.com/fundbridge/fundbridge/services/runtime"
)

// deps is what services are built from. nc is the service's own NATS
// connection, for the requests it sends to other services.
type deps struct {
	store     *jetstream.Store
	snapshots *jetstream.Snapshots
	registry  *events.Registry
	nc        *nats.Conn
	log       *slog.Logger
}

// component is a service as the binary runs it: its operations on the bus
// and, for services with read models or reactors, what runs beside them.
type component struct {
	service runtime.Service
	run     func(ctx context.Context) error // nil if nothing runs beside
}

// builders lists every service of the product but the gateway.
func builders() map[string]func(deps) component {
	return map[string]func(deps) component{
		audit.Name: func(d deps) component { return component{service: audit.Service(d.store)} },
		identity.Name: func(d deps) component {
			s := identity.New(d.store, d.registry, runtime.NewClient(d.nc, 0), identity.Options{})
			return component{service: s.Runtime(), run: s.Run}
		},
	}
}

// newRegistry registers every event type of the product.
func newRegistry() *events.Registry {
	r := events.NewRegistry()
	identity.Register(r)
	return r
}

func serviceNames() string {
	names := []string{"gateway"}
	for n := range builders() {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
