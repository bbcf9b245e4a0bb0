package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/fundbridge/fundbridge/events/jetstream"
	"github.com/fundbridge/fundbridge/internal/app"
	"github.com/fundbridge/fundbridge/internal/natsserver"
	"github.com/fundbridge/fundbridge/services/views"
)

func runProjections(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "rebuild" {
		fmt.Fprintln(stderr, "Usage: fundbridge projections rebuild [name] [flags]")
		return fmt.Errorf("%w: projections needs a subcommand: rebuild", errUsage)
	}
	args = args[1:]
	name := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	f := newFlags("projections rebuild", "fundbridge projections rebuild [name] [flags]", stderr)
	dataDir := f.string("data-dir", "./data", "the data directory whose projections to rebuild")
	natsURL := f.string("nats", "", "a running NATS server to read the log from; empty starts one on --data-dir (stop fundbridge dev first)")
	if err := f.Parse(args); err != nil {
		return err
	}
	url := *natsURL
	if url == "" {
		srv, err := natsserver.Start(natsserver.Options{Addr: "127.0.0.1:0", DataDir: filepath.Join(*dataDir, "nats"), SyncAlways: true})
		if err != nil {
			return err
		}
		defer srv.Shutdown()
		url = srv.ClientURL()
	}
	nc, err := app.Connect(url, "fundbridge-rebuild")
	if err != nil {
		return err
	}
	defer nc.Close()
	reg := app.NewRegistry()
	store, err := jetstream.Open(ctx, nc, reg, jetstream.Options{})
	if err != nil {
		return err
	}
	defer store.Close()
	svc := views.New(store, reg, filepath.Join(*dataDir, "projections"), views.WithLogger(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	start := time.Now()
	var last time.Time
	var lastDone uint64
	err = svc.Rebuild(ctx, name, func(done, total uint64, rate float64) {
		if time.Since(last) < 100*time.Millisecond && done < total {
			return
		}
		last, lastDone = time.Now(), done
		fmt.Fprintf(stderr, "\r%s %3.0f%%  %d/%d  %.0f events/s ", bar(done, total, 30), percent(done, total), done, total, rate)
	})
	fmt.Fprintln(stderr)
	if err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}
	what := "all projections"
	if name != "" {
		what = name
	}
	took := time.Since(start)
	fmt.Fprintf(stdout, "Rebuilt %s to position %d in %s.\n", what, lastDone, took.Round(time.Millisecond))
	return nil
}

func bar(done, total uint64, width int) string {
	n := width
	if total > 0 {
		n = int(uint64(width) * min(done, total) / total)
	}
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}

func percent(done, total uint64) float64 {
	if total == 0 {
		return 100
	}
	return 100 * float64(min(done, total)) / float64(total)
}
