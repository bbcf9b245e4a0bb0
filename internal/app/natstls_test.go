package app_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/fundbridge/fundbridge/internal/app"
	"github.com/fundbridge/fundbridge/internal/natsauth"
)

// selfSigned writes a certificate for 127.0.0.1 and localhost, and its key.
func selfSigned(t *testing.T, dir string) (cert, key string) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fundbridge test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, "nats.crt"), filepath.Join(dir, "nats.key")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func TestNATSOverTLS(t *testing.T) {
	cert, key := selfSigned(t, t.TempDir())
	// The whole product runs over it: the services answer the gateway,
	// and the operator signs in.
	p := startWith(t, func(o *app.Options) { o.NATSTLS = natsauth.TLSFiles{Cert: cert, Key: key, CA: cert} })
	a := p.app
	if !strings.HasPrefix(a.NATSURL, "tls://") {
		t.Errorf("NATS URL %s, want tls://", a.NATSURL)
	}

	creds, err := natsauth.ClientOptions(a.Credentials.File(natsauth.Admin), natsauth.Admin)
	if err != nil {
		t.Fatal(err)
	}
	// Good credentials, but a server certificate the client does not trust.
	if nc, err := nats.Connect(a.NATSURL, creds...); err == nil {
		nc.Close()
		t.Error("connected without trusting the server's certificate")
	}
	// The server asks every client for TLS before anything else.
	conn, err := net.Dial("tcp", strings.TrimPrefix(a.NATSURL, "tls://"))
	if err != nil {
		t.Fatal(err)
	}
	info, _ := bufio.NewReader(conn).ReadString('\n')
	conn.Close()
	if !strings.Contains(info, `"tls_required":true`) {
		t.Errorf("the server's greeting %q does not require TLS", info)
	}
	tlsOpts, err := natsauth.TLSFiles{CA: cert}.ClientOptions()
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(a.NATSURL, append(creds, tlsOpts...)...)
	if err != nil {
		t.Fatalf("with the CA: %v", err)
	}
	defer nc.Close()
	if _, err := nc.TLSConnectionState(); err != nil {
		t.Errorf("not over TLS: %v", err)
	}
}
