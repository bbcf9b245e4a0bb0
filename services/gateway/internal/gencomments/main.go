// Command gencomments writes the gateway's comments.json: the Go doc
// comments of the contract types that the OpenAPI document uses. Run it
// with go generate ./services/gateway after changing a contract's
// comments; TestDocCommentsAreCurrent fails until then.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fundbridge/fundbridge/internal/gocomments"
	"github.com/fundbridge/fundbridge/services/gateway"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gencomments:", err)
		os.Exit(1)
	}
}

func run() error {
	root, err := gocomments.Root(".")
	if err != nil {
		return err
	}
	all, err := gocomments.Extract(root)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(gateway.UsedComments(all), "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(root, "services", "gateway", gateway.CommentsFile), append(data, '\n'), 0o644)
}
