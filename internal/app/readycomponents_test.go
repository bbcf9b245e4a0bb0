package app_test

import (
	"log/slog"
	"testing"

	"github.com/fundbridge/fundbridge/internal/app"
	"github.com/fundbridge/fundbridge/internal/testenv"
)

// Every service that folds views beside its operations reports their
// position, so /readyz waits for them and the service joins its queue
// group only once they reach the head read at start (insurance did not).
func TestEveryComponentWithViewsReportsItsPosition(t *testing.T) {
	reg := app.NewRegistry()
	env := testenv.Start(t, reg)
	deps := app.Deps{Store: env.Store, Snapshots: env.Snapshots, Registry: reg, NC: env.Conn, Log: slog.New(slog.DiscardHandler),
		DataDir: t.TempDir(), CredentialKey: make([]byte, 32), ViewDir: t.TempDir()}
	for name, build := range app.Builders() {
		c := build(deps)
		if c.Run != nil && c.Position == nil {
			t.Errorf("%s runs beside its operations but reports no position: /readyz would not wait for its views", name)
		}
	}
}
