package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/httpfeed"
	"github.com/feedsync/go-feedsync/internal/feedtest"
	"github.com/feedsync/go-feedsync/store/open"
)

// syncBuffer is a bytes.Buffer safe for a server goroutine to write while
// the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// server is a 'feedsync serve' running in the test.
type server struct {
	url    string
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

// startServe runs feedsync serve with args (and --addr 127.0.0.1:0) until
// the test ends or stop is called.
func startServe(t *testing.T, h *harness, args ...string) *server {
	t.Helper()
	return startServeWrapped(t, h, nil, args...)
}

// startServeWrapped is startServe with a wrapper around the server's
// handler.
func startServeWrapped(t *testing.T, h *harness, wrap func(http.Handler) http.Handler, args ...string) *server {
	t.Helper()
	logs := &syncBuffer{}
	m := &Main{
		Stdin:  strings.NewReader(""),
		Stdout: io.Discard,
		Stderr: logs,
		Getenv: func(k string) string { return h.env[k] },
		Now:    time.Now,
	}
	ready := make(chan string, 1)
	c := &ServeCommand{m: m, ready: func(addr string) { ready <- addr }, wrap: wrap}
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{logs: logs, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- c.Run(ctx, append([]string{"--addr", "127.0.0.1:0"}, args...)) }()
	select {
	case addr := <-ready:
		s.url = "http://" + addr
	case err := <-s.done:
		cancel()
		t.Fatalf("feedsync serve %s: %v\n%s", strings.Join(args, " "), err, logs)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("feedsync serve did not start")
	}
	t.Cleanup(func() { s.stop(t) })
	return s
}

// stop stops the server as SIGTERM would and waits for it to end.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("feedsync serve ended with %v", err)
		}
	case <-time.After(40 * time.Second):
		t.Errorf("feedsync serve did not stop")
	}
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

func httpGet(t *testing.T, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	return feedtest.HTTPGet(t, httpClient, url, header...)
}

func TestServeAndSyncFeedFiles(t *testing.T) {
	h := newHarness(t)
	srv := startServe(t, h, "--store", "sqlite:"+h.path("server.db"))

	h.ok("", "create", "laptop.xml", "--by", "laptop", "--id", "stamps", "--set", "title=Buy stamps")
	r := h.ok("", "sync", srv.url, "--feed", "laptop.xml", "--by", "laptop")
	if !strings.Contains(r.stderr, "push: laptop.xml sent; server: 1 new") {
		t.Errorf("first sync of laptop:\n%s", r.stderr)
	}
	r = h.ok("", "sync", srv.url+"/", "--feed", "phone.xml", "--by", "phone")
	if !strings.Contains(r.stderr, "pull (full feed): 1 new") {
		t.Errorf("first sync of phone:\n%s", r.stderr)
	}
	if it := h.items("phone.xml")["stamps"]; it == nil {
		t.Fatalf("phone.xml lacks the item after its sync:\n%s", h.read("phone.xml"))
	}

	h.now = h.now.Add(time.Hour)
	h.ok("", "update", "phone.xml", "--by", "phone", "--id", "stamps", "--set", "title=Buy 10 stamps")
	r = h.ok("", "sync", srv.url, "--feed", "phone.xml", "--by", "phone")
	if !strings.Contains(r.stderr, "server: 0 new, 1 updated") || !strings.Contains(r.stderr, "pull (incremental feed): 0 new, 0 updated") {
		t.Errorf("phone's sync of its update:\n%s", r.stderr)
	}
	r = h.ok("", "sync", srv.url, "--feed", "laptop.xml", "--by", "laptop")
	if !strings.Contains(r.stderr, "push: nothing to send") || !strings.Contains(r.stderr, "pull (incremental feed): 0 new, 1 updated") {
		t.Errorf("laptop's sync:\n%s", r.stderr)
	}
	if got := h.items("laptop.xml")["stamps"].Sync.Top().By; got != "phone" {
		t.Errorf("laptop's item was last changed by %q, want phone", got)
	}

	// Idle: nothing goes either way, and the file is not rewritten.
	before, err := os.Stat(h.path("laptop.xml"))
	if err != nil {
		t.Fatal(err)
	}
	r = h.ok("", "sync", srv.url, "--feed", "laptop.xml", "--by", "laptop")
	if !strings.Contains(r.stderr, "push: nothing to send") || !strings.Contains(r.stderr, "pull (incremental feed): 0 new, 0 updated, 0 deleted, 0 conflicts, 0 unchanged") {
		t.Errorf("idle sync:\n%s", r.stderr)
	}
	if after, err := os.Stat(h.path("laptop.xml")); err != nil || !os.SameFile(before, after) {
		t.Errorf("an idle sync replaced laptop.xml (%v)", err)
	}
	if got, want := h.files(), []string{"laptop.xml", "laptop.xml.sync.json", "phone.xml", "phone.xml.sync.json", "server.db", "server.db-shm", "server.db-wal"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("files %v, want %v (no temporary files left)", got, want)
	}
	if !strings.Contains(srv.logs.String(), "msg=merge") || !strings.Contains(srv.logs.String(), "peer=laptop") {
		t.Errorf("server logs lack the merges:\n%s", srv.logs)
	}

	// One store is served at / only: a sync to another path fails at
	// once, and says what is served.
	resp, body := httpGet(t, srv.url+"/nope")
	if resp.StatusCode != 404 || !strings.Contains(string(body), `"collections":["/"]`) {
		t.Errorf("GET /nope: %d %s, want 404 listing /", resp.StatusCode, body)
	}
	h.fails(exitUsage, []string{"404"}, "sync", srv.url+"/nope", "--store", "sqlite:"+h.path("tablet.db"), "--by", "tablet")
}

func TestServeCollectionsTokensMetrics(t *testing.T) {
	h := newHarness(t)
	srv := startServe(t, h,
		"--collection", "tasks=sqlite:"+h.path("tasks.db"),
		"--collection", "notes=memory:",
		"--token", "t-laptop=laptop", "--token", "t-phone=phone")

	resp, body := httpGet(t, srv.url+"/")
	if resp.StatusCode != 401 {
		t.Errorf("GET / without a token: %d %s, want 401", resp.StatusCode, body)
	}
	resp, body = httpGet(t, srv.url+"/", "Authorization", "Bearer t-laptop")
	if got, want := strings.TrimSpace(string(body)), `{"collections":["notes","tasks"]}`; resp.StatusCode != 200 || got != want {
		t.Errorf("GET /: %d %s, want %s", resp.StatusCode, got, want)
	}

	h.ok("", "create", "laptop.xml", "--by", "laptop", "--id", "a", "--set", "title=A")
	h.fails(exitUsage, []string{"server answered 401", "invalid bearer token"}, "sync", srv.url+"/tasks", "--feed", "laptop.xml", "--by", "laptop", "--token", "nope")
	h.env["FEEDSYNC_TOKEN"] = "t-laptop"
	h.ok("", "sync", srv.url+"/tasks", "--feed", "laptop.xml", "--by", "whoever")
	delete(h.env, "FEEDSYNC_TOKEN")
	h.ok("", "sync", srv.url+"/tasks", "--store", "sqlite:"+h.path("phone.db"), "--by", "phone", "--token", "t-phone")
	st, err := open.Open(context.Background(), "sqlite:"+h.path("phone.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tx, err := st.Begin(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	it, err := tx.Get(context.Background(), "a")
	tx.Rollback()
	if err != nil || it == nil {
		t.Fatalf("phone.db lacks item a after its sync (%v)", err)
	}

	// The principal, not --by, names the client: the server logged laptop.
	if logs := srv.logs.String(); !strings.Contains(logs, "peer=laptop") || strings.Contains(logs, "peer=whoever") {
		t.Errorf("server logs name the wrong peer:\n%s", logs)
	}
	// One merge, laptop's item; the other POSTs are laptop's summary of
	// its file and phone's of what it pulled (the server lacks none of it).
	_, body = httpGet(t, srv.url+"/metrics", "Authorization", "Bearer t-phone")
	for _, want := range []string{
		`feedsync_merges_total{collection="tasks"} 1`,
		`feedsync_http_requests_total{collection="tasks",method="POST",code="200"} 3`,
		`feedsync_merged_items_total{collection="tasks",outcome="added"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}

func TestServeGracefulShutdown(t *testing.T) {
	// A merge in progress when the server is told to stop finishes and is
	// committed; the server then ends.
	h := newHarness(t)
	dsn := "sqlite:" + h.path("server.db")
	started := make(chan struct{})
	srv := startServeWrapped(t, h, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(started)
			next.ServeHTTP(w, r)
		})
	}, "--store", dsn)

	var feed bytes.Buffer
	item := must(feedsync.Create(feedsync.RSS, rssPayload("late"), "late", feedsync.Stamp{By: "phone", When: h.now}, false))
	if err := feedsync.WriteAll(&feed, feedsync.NewHeader(feedsync.RSS, feedsync.FeedInfo{}), []*feedsync.Item{item}); err != nil {
		t.Fatal(err)
	}
	half := feed.Len() / 2
	pr, pw := io.Pipe()
	req, err := http.NewRequest("POST", srv.url, pr)
	if err != nil {
		t.Fatal(err)
	}
	type answer struct {
		code int
		body string
		err  error
	}
	answers := make(chan answer, 1)
	go func() {
		resp, err := httpClient.Do(req)
		if err != nil {
			answers <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		answers <- answer{code: resp.StatusCode, body: string(b)}
	}()
	if _, err := pw.Write(feed.Bytes()[:half]); err != nil {
		t.Fatal(err)
	}
	select { // the server is handling the request
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("the request did not reach the handler")
	}
	srv.cancel() // as SIGTERM: Shutdown waits for the request
	if _, err := pw.Write(feed.Bytes()[half:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	a := <-answers
	if a.err != nil || a.code != 200 || !strings.Contains(a.body, `"added":1`) {
		t.Fatalf("in-flight POST: %d %s %v, want 200 with the item added\n%s", a.code, a.body, a.err, srv.logs)
	}
	select {
	case err := <-srv.done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("serve did not stop")
	}
	srv.cancel = nil
	if logs := srv.logs.String(); !strings.Contains(logs, "shutting down") || !strings.Contains(logs, "msg=stopped") {
		t.Errorf("logs:\n%s", logs)
	}
	st, err := open.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tx, err := st.Begin(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if it, err := tx.Get(context.Background(), "late"); err != nil || it == nil {
		t.Errorf("the in-flight merge was not committed (%v)", err)
	}
}

func TestServeTLS(t *testing.T) {
	h := newHarness(t)
	certFile, keyFile, pool := selfSigned(t, h.dir)
	srv := startServe(t, h, "--store", "memory:", "--tls-cert", certFile, "--tls-key", keyFile)
	url := strings.Replace(srv.url, "http://", "https://", 1)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil || resp.Header.Get(httpfeed.HeaderFeed) != httpfeed.FeedFull {
		t.Errorf("GET over TLS: %d, TLS %v, feed %q", resp.StatusCode, resp.TLS != nil, resp.Header.Get(httpfeed.HeaderFeed))
	}
	if resp, err := httpClient.Get(srv.url); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain HTTP to the TLS server: %d, want 400", resp.StatusCode)
		}
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// their paths and a pool that trusts the certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "feedsync test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestServeUsageErrors(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"serve", "extra"}, []string{`unexpected argument "extra"`}},
		{[]string{"serve", "--store", "memory:", "--collection", "a=memory:"}, []string{"cannot be used together"}},
		{[]string{"serve", "--collection", "a"}, []string{`--collection "a": want NAME=DSN`}},
		{[]string{"serve", "--collection", "a/b=memory:"}, []string{"one path segment"}},
		{[]string{"serve", "--collection", "metrics=memory:"}, []string{"other than metrics"}},
		{[]string{"serve", "--collection", "a=memory:", "--collection", "a=memory:"}, []string{"a is given twice"}},
		{[]string{"serve", "--token", "x"}, []string{"want TOKEN=PRINCIPAL"}},
		{[]string{"serve", "--token", "x=lap top"}, []string{`principal "lap top"`}},
		{[]string{"serve", "--tls-cert", "c.pem"}, []string{"--tls-cert and --tls-key go together"}},
		{[]string{"serve", "--max-items", "0"}, []string{"must be positive"}},
		{[]string{"serve", "--policy", "coinflip"}, []string{`--policy "coinflip"`}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			h.fails(exitUsage, tc.want, tc.args...)
		})
	}
	// A busy address is an error at start, not a hang.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	h.fails(exitUsage, []string{"listen on " + ln.Addr().String()}, "serve", "--store", "memory:", "--addr", ln.Addr().String())
}

// rssPayload returns an RSS <item> payload with a title.
func rssPayload(title string) *etree.Element {
	e := etree.NewElement("item")
	e.CreateElement("title").SetText(title)
	return e
}

// must returns it, or panics on err.
func must(it *feedsync.Item, err error) *feedsync.Item {
	if err != nil {
		panic(err)
	}
	return it
}

func TestServeStopsOnSIGTERM(t *testing.T) {
	h := newHarness(t)
	srv := startServe(t, h, "--store", "memory:")
	p, err := os.FindProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// serve listens for SIGTERM from before it reports ready until it
	// returns, so the signal cannot reach the default handler.
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Skipf("cannot send SIGTERM here: %v", err)
	}
	select {
	case err := <-srv.done:
		if err != nil {
			t.Fatalf("serve after SIGTERM: %v", err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
	srv.cancel()
	srv.cancel = nil
	if logs := srv.logs.String(); !strings.Contains(logs, "shutting down") {
		t.Errorf("logs:\n%s", logs)
	}
}
