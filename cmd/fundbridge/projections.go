package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/fundbridge/fundbridge/events/jetstream"
	"github.com/fundbridge/fundbridge/internal/app"
	"github.com/fundbridge/fundbridge/internal/datadir"
	"github.com/fundbridge/fundbridge/internal/natsauth"
	"github.com/fundbridge/fundbridge/internal/natsserver"
	"github.com/fundbridge/fundbridge/projections"
	"github.com/fundbridge/fundbridge/services/svc"
	"github.com/fundbridge/fundbridge/services/views"
	"github.com/fundbridge/fundbridge/services/views/viewsapi"
)

func runProjections(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const synopsis = "fundbridge projections rebuild [name] [flags]"
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprintln(stderr, "Usage: "+synopsis)
		return nil
	}
	if len(args) == 0 || args[0] != "rebuild" {
		fmt.Fprintln(stderr, "Usage: "+synopsis)
		return fmt.Errorf("%w: projections needs a subcommand: rebuild", errUsage)
	}
	args = args[1:]
	name := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	f := newFlags("projections rebuild", synopsis, stderr)
	dataDir := f.string("data-dir", "./data", "the data directory whose projections to rebuild; if a server holds it, the rebuild runs there, over NATS")
	natsURL := f.string("nats", "", "a running server's NATS: its views service rebuilds online; empty opens --data-dir, or asks the server that holds it")
	creds := f.stringEnv("creds", "FUNDBRIDGE_NATS_CREDS", "", "the admin's NATS credentials (admin.nk) for an online rebuild; empty uses --data-dir's")
	natsTLS := f.natsTLS("this client, if the server asks for one")
	if err := f.Parse(args); err != nil {
		return err
	}
	// An online rebuild asks the views service as the admin: the data
	// directory's admin unless --creds names one.
	adminCreds := *creds
	if adminCreds == "" {
		adminCreds = filepath.Join(app.CredentialsDir(*dataDir), natsauth.Admin+".nk")
	}
	online := func(url string) error {
		opts, err := natsOptions(natsauth.Admin, adminCreds, natsTLS())
		if err != nil {
			return err
		}
		return rebuildOnline(ctx, url, name, stdout, stderr, opts...)
	}
	if *natsURL != "" {
		return online(*natsURL)
	}
	// A rebuild reads a log: a directory that is not there is a mistyped
	// path, not one to make (and leave half made).
	if _, err := os.Stat(*dataDir); err != nil {
		return fmt.Errorf("no data directory at %s: check --data-dir", *dataDir)
	}
	lock, err := datadir.Acquire(*dataDir, datadir.Self())
	var held *datadir.HeldError
	if errors.As(err, &held) {
		if held.Holder.NATS == "" {
			return fmt.Errorf("%w; or pass --nats to rebuild through a running server", err)
		}
		fmt.Fprintf(stderr, "%s is in use by %s: rebuilding there, online.\n", held.Dir, held.Holder)
		return online(held.Holder.NATS)
	}
	if err != nil {
		return err
	}
	defer lock.Release()
	return rebuildOffline(ctx, *dataDir, name, stdout, stderr)
}

// rebuildOffline folds the projections of a data directory no server
// holds (the caller holds its lock), on an embedded NATS server of its own,
// closed to others like the one dev starts: it reads as the views service.
func rebuildOffline(ctx context.Context, dataDir, name string, stdout, stderr io.Writer) error {
	c, users, err := app.NATSUsers(app.CredentialsDir(dataDir))
	if err != nil {
		return err
	}
	srv, err := natsserver.Start(natsserver.Options{Addr: "127.0.0.1:0", DataDir: filepath.Join(dataDir, "nats"), SyncAlways: true, Users: users})
	if err != nil {
		return err
	}
	defer srv.Shutdown()
	opts, err := natsOptions(views.Name, c.File(views.Name), natsauth.TLSFiles{})
	if err != nil {
		return err
	}
	nc, err := app.Connect(srv.ClientURL(), "fundbridge-rebuild", opts...)
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
	svc := views.New(store, reg, filepath.Join(dataDir, "projections"), views.WithLogger(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
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
	fmt.Fprintf(stdout, "Rebuilt %s to position %d in %s.\n", what(name), lastDone, time.Since(start).Round(time.Millisecond))
	return nil
}

// rebuildOnline asks a running views service to rebuild and follows its
// status until the projections have folded the log up to its head.
// It calls as the admin (opts), on the admin's system subject.
func rebuildOnline(ctx context.Context, url, name string, stdout, stderr io.Writer, opts ...nats.Option) error {
	nc, err := app.Connect(url, "fundbridge-rebuild", opts...)
	if err != nil {
		return err
	}
	defer nc.Close()
	client := svc.NewSystemClient(nc, natsauth.Admin, 10*time.Second)
	actor := svc.SystemActor(natsauth.Admin)
	start := time.Now()
	started, _, err := svc.Call(ctx, client, viewsapi.RebuildEndpoint, &svc.Request{Actor: actor}, viewsapi.RebuildQuery{Name: name})
	if err != nil {
		return fmt.Errorf("rebuild through %s: %w", url, err)
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		st, _, err := svc.Call(ctx, client, viewsapi.StatusEndpoint, &svc.Request{Actor: actor}, viewsapi.StatusQuery{})
		if err != nil {
			return fmt.Errorf("rebuild through %s: %w", url, err)
		}
		done, stopped := rebuildProgress(st.Items, name)
		fmt.Fprintf(stderr, "\r%s %3.0f%%  %d/%d ", bar(done, started.Head, 30), percent(done, started.Head), done, started.Head)
		if stopped != nil {
			fmt.Fprintln(stderr)
			return fmt.Errorf("rebuild: projection %s stopped at position %d: %s", stopped.Name, stopped.ErrorPosition, stopped.Error)
		}
		if !st.Rebuilding && done >= started.Head {
			fmt.Fprintln(stderr)
			fmt.Fprintf(stdout, "Rebuilt %s online to position %d in %s.\n", what(name), done, time.Since(start).Round(time.Millisecond))
			return nil
		}
		select {
		case <-ctx.Done():
			fmt.Fprintln(stderr)
			return fmt.Errorf("stopped following the rebuild; it goes on in the server: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// rebuildProgress is the lowest position of the projections rebuilt, and
// the first of them that stopped.
func rebuildProgress(items []projections.Status, name string) (uint64, *projections.Status) {
	var low uint64
	first := true
	for i, it := range items {
		if name != "" && it.Name != name {
			continue
		}
		if it.State == projections.StateStopped {
			return it.Position, &items[i]
		}
		if first || it.Position < low {
			low, first = it.Position, false
		}
	}
	return low, nil
}

func what(name string) string {
	if name == "" {
		return "all projections"
	}
	return name
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
