package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge/services/gateway"
)

func TestLimitFlags(t *testing.T) {
	t.Setenv("FUNDBRIDGE_LIMIT_SIGNUP", "5/1h")
	f := newFlags("dev", "fundbridge dev", io.Discard)
	limits := limitFlags(f)
	if err := f.Parse([]string{"--limit-signin-pair", "3/30s"}); err != nil {
		t.Fatal(err)
	}
	l, err := limits()
	if err != nil {
		t.Fatal(err)
	}
	d := gateway.DefaultLimits()
	if l.SignInPair != (gateway.Bucket{Burst: 3, Every: 30 * time.Second}) || l.SignUp != (gateway.Bucket{Burst: 5, Every: time.Hour}) ||
		l.Writes != d.Writes || l.MaxKeys != d.MaxKeys {
		t.Errorf("limits = %+v; want the flag, the variable, then the defaults", l)
	}

	f = newFlags("dev", "fundbridge dev", io.Discard)
	limits = limitFlags(f)
	if err := f.Parse([]string{"--limit-writes", "lots"}); err != nil {
		t.Fatal(err)
	}
	if _, err := limits(); err == nil || !strings.Contains(err.Error(), "lots") {
		t.Errorf("a bad limit = %v, want an error quoting it", err)
	}
}
