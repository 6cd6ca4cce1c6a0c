package testserver

import (
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
)

// A Proxy relays TCP connections to a server and can lose its answers: with
// LoseAnswers(true) every request still reaches the server, which applies
// it, but nothing the server sends back reaches the client, as when a
// network drops the reply. It injects faults below the driver, which talks
// to a real server through it.
type Proxy struct {
	ln     net.Listener
	target string
	lose   atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
}

// NewProxy starts a proxy on a loopback port relaying to target
// (host:port) and closes it when t ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testserver: proxy: %v", err)
	}
	p := &Proxy{ln: ln, target: target}
	go p.serve()
	t.Cleanup(p.close)
	return p
}

// Proxied returns a proxy relaying to the server of rawURL (any URL whose
// host is the server's host:port, such as Server.Isolated returns for
// MySQL, MariaDB and Mongo) and rawURL with its host replaced by the
// proxy's.
func Proxied(t testing.TB, rawURL string) (*Proxy, string) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		t.Fatalf("testserver: proxy: URL %q names no host", rawURL)
	}
	p := NewProxy(t, u.Host)
	u.Host = p.Addr()
	return p, u.String()
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// LoseAnswers switches answer losing on or off for every connection, open
// or future.
func (p *Proxy) LoseAnswers(lose bool) { p.lose.Store(lose) }

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		go func() { io.Copy(s, c); s.Close() }()
		go func() {
			buf := make([]byte, 32<<10)
			for {
				n, err := s.Read(buf)
				if n > 0 && !p.lose.Load() {
					if _, werr := c.Write(buf[:n]); werr != nil {
						break
					}
				}
				if err != nil {
					break
				}
			}
			c.Close()
		}()
	}
}

func (p *Proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}
