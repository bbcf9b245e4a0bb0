package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/fundbridge/fundbridge/events/bench"
	"github.com/fundbridge/fundbridge/internal/cmdbench"
)

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "store" && args[0] != "commands") {
		fmt.Fprintln(stderr, "Usage: fundbridge bench store|commands [flags]")
		return fmt.Errorf("%w: bench needs a subject: store or commands", errUsage)
	}
	subject := args[0]
	f := newFlags("bench "+subject, "fundbridge bench "+subject+" [flags]", stderr)
	jsonOut := f.string("json", "", "also write the results as a JSON array to this file (- for stdout)")
	duration := f.duration("bench-duration", 2*time.Second, "how long each throughput scenario runs")
	quick := f.bool("quick", false, "tiny sizes, for a smoke test")
	dir := f.string("bench-dir", "", "where the benchmark's servers keep their data (default: a temporary directory)")
	if err := f.Parse(args[1:]); err != nil {
		return err
	}
	dataDir := *dir
	if dataDir == "" {
		tmp, err := os.MkdirTemp("", "fundbridge-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dataDir = tmp
	}
	var results []bench.Result
	var err error
	if subject == "store" {
		results, err = bench.Run(ctx, bench.Config{DataDir: dataDir, Duration: *duration, Quick: *quick, Progress: stderr})
	} else {
		d := *duration
		if *quick {
			d = 200 * time.Millisecond
		}
		results, err = cmdbench.Run(ctx, cmdbench.Config{DataDir: dataDir, Duration: d, Progress: stderr})
	}
	if err != nil {
		return fmt.Errorf("bench %s: %w", subject, err)
	}
	bench.PrintTable(stdout, results)
	if *jsonOut != "" {
		data, err := json.MarshalIndent(results, "", "  ")
		if err != nil {
			return err
		}
		data = append(data, '\n')
		if *jsonOut == "-" {
			_, err = stdout.Write(data)
			return err
		}
		if err := os.WriteFile(*jsonOut, data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", *jsonOut, err)
		}
	}
	return nil
}
