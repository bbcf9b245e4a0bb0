package main

import (
	"github.com/fundbridge/fundbridge/services/gateway"
)

// limitFlags adds the gateway's abuse limits to f, each a token bucket
// written burst/interval; the returned func reads them after parsing.
func limitFlags(f *flags) func() (gateway.Limits, error) {
	d := gateway.DefaultLimits()
	type bucketFlag struct {
		value *string
		into  *gateway.Bucket
	}
	var l gateway.Limits
	buckets := []bucketFlag{
		{f.string("limit-signin-pair", d.SignInPair.String(), "failed sign-ins per account and client address, then locked out until a token is back"), &l.SignInPair},
		{f.string("limit-signin-account", d.SignInAccount.String(), "failed sign-ins per account; slows only addresses that failed on it"), &l.SignInAccount},
		{f.string("limit-signin-address", d.SignInAddress.String(), "failed sign-ins per client address, on any account"), &l.SignInAddress},
		{f.string("limit-signin-attempts", d.SignInAttempts.String(), "sign-in attempts per client address, failed or not"), &l.SignInAttempts},
		{f.string("limit-signup", d.SignUp.String(), "sign-ups per client address"), &l.SignUp},
		{f.string("limit-writes", d.Writes.String(), "commands per signed-in user"), &l.Writes},
	}
	proxies := f.string("trusted-proxies", "", "comma-separated proxy addresses or CIDRs whose X-Forwarded-For names the client (the limits count clients)")
	maxKeys := f.int("limit-max-keys", d.MaxKeys, "keys each limiter table remembers (about 250 bytes each)")
	return func() (gateway.Limits, error) {
		for _, b := range buckets {
			v, err := gateway.ParseBucket(*b.value)
			if err != nil {
				return gateway.Limits{}, err
			}
			*b.into = v
		}
		l.MaxKeys = *maxKeys
		var err error
		l.TrustedProxies, err = gateway.ParseProxies(*proxies)
		return l, err
	}
}
