package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/fundbridge/fundbridge/internal/natsauth"
	"github.com/fundbridge/fundbridge/services/svc"
)

// flags wraps a FlagSet so that every flag has a FUNDBRIDGE_* environment
// variable: the flag wins, then the variable, then the default.
type flags struct {
	*flag.FlagSet
	env map[string]string // flag name → variable
}

func newFlags(name, synopsis string, stderr io.Writer) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &flags{FlagSet: fs, env: map[string]string{}}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s\n\nFlags (environment variable in brackets):\n", synopsis)
		fs.VisitAll(func(fl *flag.Flag) {
			def := ""
			if fl.DefValue != "" && fl.DefValue != "false" {
				def = fmt.Sprintf(" (default %s)", fl.DefValue)
			}
			fmt.Fprintf(stderr, "  --%s [%s]\n      %s%s\n", fl.Name, f.env[fl.Name], fl.Usage, def)
		})
	}
	return f
}

func envName(flagName string) string {
	return "FUNDBRIDGE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func (f *flags) string(name, def, usage string) *string {
	f.env[name] = envName(name)
	if v, ok := os.LookupEnv(envName(name)); ok {
		def = v
	}
	return f.String(name, def, usage)
}

// stringEnv is string with an environment variable not named after the flag.
func (f *flags) stringEnv(name, env, def, usage string) *string {
	f.env[name] = env
	if v, ok := os.LookupEnv(env); ok {
		def = v
	}
	return f.String(name, def, usage)
}

// natsTLS declares the NATS TLS flags; call the result after parsing.
func (f *flags) natsTLS(who string) func() natsauth.TLSFiles {
	cert := f.string("nats-tls-cert", "", "NATS TLS certificate (PEM) of "+who)
	key := f.string("nats-tls-key", "", "its private key (PEM)")
	ca := f.string("nats-tls-ca", "", "CA (PEM) that signed the NATS server's certificate; empty trusts the system's roots")
	return func() natsauth.TLSFiles { return natsauth.TLSFiles{Cert: *cert, Key: *key, CA: *ca} }
}

func (f *flags) bool(name string, def bool, usage string) *bool {
	f.env[name] = envName(name)
	if v, ok := os.LookupEnv(envName(name)); ok {
		if b, err := strconv.ParseBool(v); err == nil {
			def = b
		}
	}
	return f.Bool(name, def, usage)
}

func (f *flags) int(name string, def int, usage string) *int {
	f.env[name] = envName(name)
	if v, ok := os.LookupEnv(envName(name)); ok {
		if n, err := strconv.Atoi(v); err == nil {
			def = n
		}
	}
	return f.Int(name, def, usage)
}

func (f *flags) duration(name string, def time.Duration, usage string) *time.Duration {
	f.env[name] = envName(name)
	if v, ok := os.LookupEnv(envName(name)); ok {
		if d, err := time.ParseDuration(v); err == nil {
			def = d
		}
	}
	return f.Duration(name, def, usage)
}

// newLogger returns a text logger for people or a JSON one for machines.
// logFormatUsage is the --log-format flag's usage.
const logFormatUsage = "log format: text, json, or auto (text on a terminal, json otherwise)"

func newLogger(format, level string, w io.Writer) (*slog.Logger, error) {
	if format == "auto" {
		format = "json"
		if terminal(w) {
			format = "text"
		}
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(svc.WithRequestIDs(slog.NewTextHandler(w, opts))), nil
	case "json":
		return slog.New(svc.WithRequestIDs(slog.NewJSONHandler(w, opts))), nil
	}
	return nil, fmt.Errorf("log format %q: want text, json or auto", format)
}

// terminal reports whether w is a terminal (a character device), where a
// person reads the log rather than a collector.
func terminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
