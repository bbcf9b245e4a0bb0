// Package gocomments reads the doc comments of Go types and struct fields
// from the module's source, keyed as invopop/jsonschema keys them
// ("<import path>.<Type>" and "<import path>.<Type>.<Field>"). The
// gateway describes the OpenAPI document's fields with them; since the
// binary must not need the source at run time, the comments it uses are
// generated into a committed file (go generate ./services/gateway) and a
// test fails when that file is stale.
package gocomments

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/invopop/jsonschema"
)

// Module is the import path of the module's root.
const Module = "github.com/fundbridge/fundbridge"

// Root finds the module's root directory from dir upwards.
func Root(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(string(data), "module "+Module+"\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("gocomments: not inside the " + Module + " module")
		}
		dir = parent
	}
}

// Extract reads every comment of the module rooted at root. Type comments
// keep their full text (not only the first sentence): a reader of the
// document is told units and rules there too.
func Extract(root string) (map[string]string, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	var r jsonschema.Reflector
	if err := r.AddGoComments(Module, root, jsonschema.WithFullComment()); err != nil {
		return nil, fmt.Errorf("gocomments: read the comments under %s: %w", root, err)
	}
	// The reflector joins the module's path with the directory walked:
	// take the root's own path out again.
	walked := path.Join(Module, filepath.ToSlash(root))
	out := make(map[string]string, len(r.CommentMap))
	for k, v := range r.CommentMap {
		if rest, ok := strings.CutPrefix(k, walked); ok {
			out[Module+rest] = v
		}
	}
	return out, nil
}
