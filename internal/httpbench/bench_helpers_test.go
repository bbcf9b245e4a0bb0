package httpbench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// benchProduct starts the product in this process for a closed-loop
// benchmark (20 startups, quick sizes), stopped with the benchmark, and a
// client that keeps a connection per sender.
func benchProduct(b *testing.B) (*product, *http.Client) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	b.Cleanup(cancel)
	cfg := Config{DataDir: b.TempDir(), Quick: true, Companies: 20}
	cfg.defaults()
	p, err := start(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(p.close)
	return p, &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
}

// send sends the targeter's next request and reads its answer whole,
// and says what went wrong: the request, or a status other than want.
func send(client *http.Client, tr vegeta.Targeter, t *vegeta.Target, want int) error {
	if err := tr(t); err != nil {
		return err
	}
	req, err := t.Request()
	if err != nil {
		return err
	}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != want {
		return fmt.Errorf("%s %s: %d", t.Method, t.URL, res.StatusCode)
	}
	return nil
}
