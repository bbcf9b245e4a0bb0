package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"time"

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
	client := svc.NewSystemClient(nc, natsauth.Admin, 10*time.Second)
	system := svc.SystemActor(natsauth.Admin)
	var res identityapi.BootstrapResult
	for attempt := 0; attempt < 50; attempt++ { // the service may still be subscribing
		cmd := identityapi.BootstrapOperatorCommand{Email: email, Password: password}
		if res, _, err = svc.Call(ctx, client, identityapi.BootstrapOperatorEndpoint, &svc.Request{Actor: system}, cmd); fundbridge.ErrorCode(err) != fundbridge.EUNAVAILABLE {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return identityapi.User{}, fmt.Errorf("operator account: %w", err)
	}
	switch {
	case res.Created && generated:
		fmt.Fprintf(stdout, "  operator  %s  password %s  (shown once; set FUNDBRIDGE_OPERATOR_PASSWORD to choose it)\n", res.User.Email, password)
	case res.Created:
		fmt.Fprintf(stdout, "  operator  %s  (password from FUNDBRIDGE_OPERATOR_PASSWORD)\n", res.User.Email)
	default:
		fmt.Fprintf(stdout, "  operator  %s\n", res.User.Email)
	}
	return res.User, nil
}
