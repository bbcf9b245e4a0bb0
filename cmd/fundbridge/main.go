// Command fundbridge runs the Fundbridge marketplace: everything in one
// process for development (dev), one service against a NATS cluster
// (serve), or the benchmarks (bench).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/fundbridge/fundbridge/internal/app"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `Fundbridge: a financing marketplace for AI companies.

Usage:
  fundbridge dev [flags]              run everything in one process on an embedded NATS server (--demo loads a market)
  fundbridge serve <service> [flags]  run one service against an external NATS cluster
  fundbridge demo [flags]             load a realistic demo market through the HTTP API
  fundbridge projections rebuild [name]  fold the read views again from the start of the log
  fundbridge nats credentials|streams  NATS users and streams for a cluster (see SECURITY.md)
  fundbridge bench [scenario...]      measure store, commands, http, lag, rebuild, matching against raw baselines
  fundbridge schedule [flags]         print a loan's repayment schedule (--help for the flags)
  fundbridge probe <url>              exit 0 if a health URL answers 2xx (container health checks)
  fundbridge version                  print the version

Services: %s

Run "fundbridge <command> --help" for a command's flags. Every flag has an
environment variable (FUNDBRIDGE_*), listed with the flag.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // help was asked for and printed: not an error
		}
		fmt.Fprintln(os.Stderr, "fundbridge:", err)
		stop()
		os.Exit(exitCode(err))
	}
}

func exitCode(err error) int {
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help" || arg == "help"
}

var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || isHelp(args[0]) {
		fmt.Fprintf(stderr, usage, strings.Join(app.ServiceNames(), ", "))
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	switch args[0] {
	case "dev":
		return runDev(ctx, args[1:], stdout, stderr)
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "projections":
		return runProjections(ctx, args[1:], stdout, stderr)
	case "demo":
		return runDemo(ctx, args[1:], stdout, stderr)
	case "nats":
		return runNATS(ctx, args[1:], stdout, stderr)
	case "bench":
		return runBench(ctx, args[1:], stdout, stderr)
	case "schedule":
		return runSchedule(ctx, args[1:], stdout, stderr)
	case "probe":
		return runProbe(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "fundbridge", version)
		return nil
	}
	fmt.Fprintf(stderr, usage, strings.Join(app.ServiceNames(), ", "))
	return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
}
