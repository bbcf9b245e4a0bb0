package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/fundbridge/fundbridge/events/bench"
	"github.com/fundbridge/fundbridge/internal/benchrun"
)

const benchSynopsis = "fundbridge bench [scenario...] [flags]"

// runBench runs the named scenarios (all by default), each in a fresh
// process of this binary so that its peak memory is its own, and prints
// one table of every figure.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("bench", benchSynopsis, stderr)
	jsonOut := f.string("json", "", "also write the results as a JSON array to this file (- for stdout)")
	quick := f.bool("quick", false, "small sizes: every scenario together in under a minute (a smoke test)")
	dir := f.string("bench-dir", "", "where the benchmark's servers keep their data (default: a temporary directory)")
	events := f.int("events", 0, "rebuild, restart: events in the log (rebuild: default 100000, 1000000 for the issue's figure; restart: default 1000000)")
	once := f.bool("once", false, "restart: no rounds; start once with every checkpoint deleted, once resumed, once with only the services' view checkpoints deleted (for 1,000,000 events)")
	url := f.string("url", "", "http, lag: a running server's URL instead of the product started in-process")
	natsURL := f.string("nats-url", "", "http with --url: the NATS server for the raw publish baseline (default: an embedded fsync-always one)")
	opEmail := f.string("operator-email", "operator@fundbridge.local", "http, lag with --url: the operator to read the list and the lifecycle view as")
	opPassword := f.string("operator-password", "", "http, lag with --url: that operator's password")
	step := f.duration("step", 0, "http: how long each rate is held (default 3s; 500ms with --quick)")
	startRate := f.int("start-rate", 0, "http: the first step's requests per second (default 100)")
	workloads := f.string("workloads", "", "http: comma-separated, of writes, read-company, read-list, read-lifecycle, mix (default all)")
	lagRate := f.int("lag-rate", 0, "lag: writes per second meanwhile (default: the highest write rate http held in this run, else 200)")
	companies := f.int("companies", 0, "http, lag: startups signed up to act for (default 200; 10 with --quick)")
	inProcess := f.bool("in-process", false, "run every scenario in this process (peak memory is then the whole run's)")
	child := f.Bool("child", false, "") // internal: this process runs one scenario for a parent
	f.Usage = func() { benchUsage(f, stderr) }

	names, err := parseInterleaved(f.FlagSet, args)
	if err != nil {
		return err
	}
	scenarios, err := benchScenarios(names)
	if err != nil {
		benchUsage(f, stderr)
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
	o := benchrun.Options{DataDir: dataDir, Quick: *quick, Events: *events, RestartOnce: *once, Progress: stderr}
	o.HTTP.URL, o.HTTP.NATSURL, o.HTTP.OperatorEmail, o.HTTP.OperatorPassword = *url, *natsURL, *opEmail, *opPassword
	o.HTTP.Step, o.HTTP.StartRate, o.HTTP.LagRate, o.HTTP.Companies = *step, *startRate, *lagRate, *companies
	if *workloads != "" {
		o.HTTP.Workloads = strings.Split(*workloads, ",")
	}

	start := time.Now()
	var results []bench.Result
	for _, s := range scenarios {
		var rs []bench.Result
		if !*child {
			fmt.Fprintf(stderr, "== %s: %s\n", s.Name, s.Summary)
		}
		if *child || *inProcess {
			rs, err = benchrun.Run(ctx, s, scenarioOptions(o, s.Name))
		} else {
			rs, err = runChild(ctx, f.FlagSet, s.Name, dataDir, stderr)
		}
		if err != nil {
			return fmt.Errorf("bench %s: %w", s.Name, err)
		}
		results = append(results, rs...)
		if held := heldWriteRate(rs); held > 0 && *lagRate == 0 {
			// The issue asks for the lag at the highest write rate held.
			if err := f.Set("lag-rate", fmt.Sprint(held)); err != nil {
				return err
			}
			o.HTTP.LagRate = held
		}
	}
	if !*child {
		fmt.Fprintf(stderr, "all scenarios in %s\n", time.Since(start).Round(time.Millisecond))
		bench.PrintTable(stdout, results)
	}
	return writeJSON(*jsonOut, results, stdout)
}

// benchScenarios are the scenarios named, every one when none is.
func benchScenarios(names []string) ([]benchrun.Scenario, error) {
	if len(names) == 0 {
		return benchrun.Scenarios(), nil
	}
	var scenarios []benchrun.Scenario
	for _, n := range names {
		s, ok := benchrun.Find(n)
		if !ok {
			return nil, fmt.Errorf("%w: no bench scenario %q", errUsage, n)
		}
		scenarios = append(scenarios, s)
	}
	return scenarios, nil
}

// heldWriteRate is the highest rate the http scenario's writes held in
// rs, 0 if none.
func heldWriteRate(rs []bench.Result) int {
	for _, r := range rs {
		if r.Scenario == "http/writes" && r.Metric == "held_per_sec" {
			return int(r.Value)
		}
	}
	return 0
}

// scenarioOptions gives each scenario a data directory of its own.
func scenarioOptions(o benchrun.Options, name string) benchrun.Options {
	o.DataDir = filepath.Join(o.DataDir, name)
	return o
}

// parseInterleaved parses flags that come before, between or after the
// scenario names, and returns the names.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var names []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return names, nil
		}
		names = append(names, args[0])
		args = args[1:]
	}
}

// runChild runs one scenario in a fresh process of this binary, with the
// flags this one was given, and reads back its figures.
func runChild(ctx context.Context, fs *flag.FlagSet, name, dataDir string, stderr io.Writer) ([]bench.Result, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find this binary to run the scenario in a fresh process (or use --in-process): %w", err)
	}
	out := filepath.Join(dataDir, name+".json")
	args := []string{"bench", "--child", "--json", out, "--bench-dir", dataDir}
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "json", "child", "bench-dir", "in-process":
		default:
			args = append(args, "--"+fl.Name+"="+fl.Value.String())
		}
	})
	cmd := exec.CommandContext(ctx, exe, append(args, name)...)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("scenario process: %w", err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	var rs []bench.Result
	if err := json.Unmarshal(data, &rs); err != nil {
		return nil, fmt.Errorf("scenario process's figures: %w", err)
	}
	return rs, nil
}

func writeJSON(path string, results []bench.Result, stdout io.Writer) error {
	if path == "" {
		return nil
	}
	data, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if path == "-" {
		_, err = stdout.Write(data)
		return err
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func benchUsage(f *flags, stderr io.Writer) {
	fmt.Fprintf(stderr, "Usage: %s\n\nScenarios (all by default, each in a fresh process):\n", benchSynopsis)
	for _, s := range benchrun.Scenarios() {
		fmt.Fprintf(stderr, "  %-10s %s\n", s.Name, s.Summary)
	}
	fmt.Fprintln(stderr, "\nFlags (environment variable in brackets):")
	f.VisitAll(func(fl *flag.Flag) {
		if fl.Name == "child" {
			return
		}
		def := ""
		if fl.DefValue != "" && fl.DefValue != "false" && fl.DefValue != "0" && fl.DefValue != "0s" {
			def = fmt.Sprintf(" (default %s)", fl.DefValue)
		}
		fmt.Fprintf(stderr, "  --%s [%s]\n      %s%s\n", fl.Name, f.env[fl.Name], fl.Usage, def)
	})
}
