package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The files fundbridge nats tls writes; deploy/nats/nats-server.conf and
// the services' --nats-tls-ca name them.
const (
	tlsCAFile   = "ca.pem"
	tlsCertFile = "nats.pem"
	tlsKeyFile  = "nats-key.pem"
)

// natsTLSFiles writes a private CA and one certificate for the NATS nodes
// (server and client use, so the nodes' routes verify each other), for a
// cluster that has no certificates of its own yet: docker-compose.yml and
// the fault test. Existing files are kept.
func natsTLSFiles(args []string, stdout, stderr io.Writer) error {
	f := newFlags("nats tls", "fundbridge nats tls [flags]", stderr)
	dir := f.string("dir", "./data/credentials", "where ca.pem, nats.pem and nats-key.pem go")
	hosts := f.string("hosts", "localhost,127.0.0.1", "comma-separated names and addresses the NATS nodes are reached by")
	valid := f.duration("valid", 365*24*time.Hour, "how long the certificates are valid")
	if err := f.Parse(args); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(*dir, tlsCertFile)); err == nil {
		fmt.Fprintf(stdout, "NATS TLS files in %s are kept.\n", absPath(*dir))
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return err
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "Fundbridge NATS CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(*valid),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, IsCA: true, BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	nodeKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	node := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "Fundbridge NATS node"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(*valid),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, h := range strings.Split(*hosts, ",") {
		if h = strings.TrimSpace(h); h == "" {
			continue
		}
		if ip := net.ParseIP(h); ip != nil {
			node.IPAddresses = append(node.IPAddresses, ip)
		} else {
			node.DNSNames = append(node.DNSNames, h)
		}
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}
	nodeDER, err := x509.CreateCertificate(rand.Reader, node, caCert, &nodeKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalECPrivateKey(nodeKey)
	if err != nil {
		return err
	}
	for name, block := range map[string]*pem.Block{
		tlsCAFile:   {Type: "CERTIFICATE", Bytes: caDER},
		tlsCertFile: {Type: "CERTIFICATE", Bytes: nodeDER},
		tlsKeyFile:  {Type: "EC PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(filepath.Join(*dir, name), pem.EncodeToMemory(block), 0o600); err != nil {
			return err
		}
	}
	// The CA's own key is not kept: a new node certificate means a new CA.
	fmt.Fprintf(stdout, "NATS TLS files in %s: %s (services: --nats-tls-ca), %s and %s (the nodes), for %s.\n", absPath(*dir), tlsCAFile, tlsCertFile, tlsKeyFile, *hosts)
	return nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return big.NewInt(time.Now().UnixNano())
	}
	return n
}
