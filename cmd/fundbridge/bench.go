package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/fundbridge/fundbridge/events/bench"
)

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "store" {
		fmt.Fprintln(stderr, "Usage: fundbridge bench store [flags]")
		return fmt.Errorf("%w: bench needs a subject: store", errUsage)
	}
	f := newFlags("bench store", "fundbridge bench store [flags]", stderr)
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
	results, err := bench.Run(ctx, bench.Config{DataDir: dataDir, Duration: *duration, Quick: *quick, Progress: stderr})
	if err != nil {
		return fmt.Errorf("bench store: %w", err)
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
