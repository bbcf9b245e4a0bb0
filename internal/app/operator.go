package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/internal/natsauth"
	"github.com/fundbridge/fundbridge/services/identity/identityapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// BootstrapOperator makes sure the first operator account exists. Without
// a password from the environment it generates one and prints it, once:
// on later starts the account exists and keeps its password.
func (a *App) BootstrapOperator(ctx context.Context, email, password string, stdout io.Writer) (identityapi.User, error) {
	generated := password == ""
	if generated {
		b := make([]byte, 15)
		if _, err := rand.Read(b); err != nil {
			return identityapi.User{}, err
		}
		password = base64.RawURLEncoding.EncodeToString(b)
	}
	// The admin's NATS user, acting as the platform (fb.sys.admin).
	nc, err := ConnectAs(a.NATSURL, a.Credentials, natsauth.Admin, a.natsTLS, a.log)
	if err != nil {
		return identityapi.User{}, err
	}
	defer nc.Close()
	// Identity answers once its views have caught up with the log.
	bctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	res, err := BootstrapOperatorAs(bctx, nc, natsauth.Admin, email, password)
	if err != nil {
		return identityapi.User{}, err
	}
	a.operator()
	switch {
	case res.Created && generated:
		fmt.Fprintf(stdout, "  operator  %s  password %s  (shown once; set FUNDBRIDGE_OPERATOR_PASSWORD to choose it)\n", res.User.Email, password)
	case res.Created:
		fmt.Fprintf(stdout, "  operator  %s  (password as given: --operator-password or FUNDBRIDGE_OPERATOR_PASSWORD)\n", res.User.Email)
	default:
		fmt.Fprintf(stdout, "  operator  %s\n", res.User.Email)
	}
	return res.User, nil
}

// BootstrapOperatorAs asks identity, as the system actor of caller (a NATS
// user that may publish fb.sys.<caller>), to create the first operator if
// it does not exist. While no identity instance answers it tries again,
// until ctx ends: in a cluster the services start in any order.
func BootstrapOperatorAs(ctx context.Context, nc *nats.Conn, caller, email, password string) (identityapi.BootstrapResult, error) {
	client := svc.NewSystemClient(nc, caller, 10*time.Second)
	cmd := identityapi.BootstrapOperatorCommand{Email: email, Password: password}
	for {
		res, _, err := svc.Call(ctx, client, identityapi.BootstrapOperatorEndpoint, &svc.Request{Actor: svc.SystemActor(caller)}, cmd)
		if fundbridge.ErrorCode(err) != fundbridge.EUNAVAILABLE {
			if err != nil {
				return res, fmt.Errorf("operator account: %w", err)
			}
			return res, nil
		}
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("operator account: %w", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
