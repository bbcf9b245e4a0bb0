package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// runProbe asks a health URL and exits 0 only on a 2xx: the container
// health check of an image that has no shell or curl (distroless).
func runProbe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("probe", "fundbridge probe [flags] <url>", stderr)
	timeout := f.duration("probe-timeout", 3*time.Second, "how long to wait for the answer")
	if err := f.Parse(args); err != nil {
		return err
	}
	if f.NArg() != 1 {
		f.Usage()
		return fmt.Errorf("%w: probe needs one URL, such as http://127.0.0.1:9090/readyz", errUsage)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.Arg(0), nil)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Fprintf(stdout, "%d %s", resp.StatusCode, body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %d", f.Arg(0), resp.StatusCode)
	}
	return nil
}
