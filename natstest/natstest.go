// Package natstest runs real NATS servers with JetStream on loopback for
// tests: one server or a cluster, in the test's own process (Start) or
// each in a child process that a test can kill -9 and start again
// (StartProcesses). No mocks: these are nats-server's own code, embedded.
package natstest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// childEnv names the environment variable that makes a test binary run a
// node (RunChild) instead of its tests: it holds the node's settings.
const childEnv = "NEWSDESK_TEST_NATS_NODE"

// Node is one nats-server with JetStream, on fixed loopback ports and a
// store directory of its own, so that it can be stopped and started again
// as the same cluster member.
type Node struct {
	Name        string `json:"name"`
	Port        int    `json:"port"`
	ClusterPort int    `json:"cluster_port"`
	Cluster     string `json:"cluster,omitempty"` // the cluster's name; "" for a lone server
	Routes      []int  `json:"routes,omitempty"`  // every member's cluster port
	StoreDir    string `json:"store_dir"`
	LogFile     string `json:"log_file,omitempty"`

	mu  sync.Mutex
	srv *server.Server // in this process
	cmd *exec.Cmd      // in a child process
	exe string         // the child's executable; "" in this process
}

// URL returns the node's client URL.
func (n *Node) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.Port) }

// Cluster is a set of nodes forming one JetStream domain.
type Cluster struct {
	Nodes []*Node
}

// URL returns every node's client URL, comma-separated, as nats.Connect
// takes them: a client fails over from one to the next.
func (c *Cluster) URL() string {
	urls := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		urls[i] = n.URL()
	}
	return strings.Join(urls, ",")
}

// Start runs n nodes in this process (one lone server for n = 1, else a
// cluster), waits until JetStream answers on each, and stops them when
// the test ends.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	return start(t, n, "")
}

// StartProcesses runs n nodes as child processes of this test binary,
// which must call RunChild first thing in its TestMain; Kill stops one with
// SIGKILL, as a crash or a power cut would.
func StartProcesses(t testing.TB, n int) *Cluster {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return start(t, n, exe)
}

func start(t testing.TB, n int, exe string) *Cluster {
	root := t.TempDir()
	c := &Cluster{}
	var routes []int
	for i := range n {
		node := &Node{Name: fmt.Sprintf("n%d", i+1), Port: freePort(t), StoreDir: filepath.Join(root, fmt.Sprintf("n%d", i+1)), exe: exe}
		if n > 1 {
			node.Cluster, node.ClusterPort = "newsdesk-test", freePort(t)
			routes = append(routes, node.ClusterPort)
		}
		if exe != "" {
			node.LogFile = filepath.Join(root, node.Name+".log")
		}
		c.Nodes = append(c.Nodes, node)
	}
	for _, node := range c.Nodes {
		node.Routes = routes
		if err := node.Start(); err != nil {
			c.stop()
			t.Fatal(err)
		}
	}
	t.Cleanup(c.stop)
	for _, node := range c.Nodes {
		if err := node.WaitJetStream(30 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func (c *Cluster) stop() {
	for _, n := range c.Nodes {
		_ = n.Kill()
	}
}

// Start starts the node, in this process or as a child process, and waits
// until it accepts connections.
func (n *Node) Start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.exe == "" {
		s, err := n.run()
		if err != nil {
			return err
		}
		n.srv = s
		return nil
	}
	b, err := json.Marshal(n)
	if err != nil {
		return err
	}
	cmd := exec.Command(n.exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(b))
	DieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start nats node %s: %w", n.Name, err)
	}
	n.cmd = cmd
	go func() { _ = cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", n.Port), time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nats node %s does not listen: %w (log: %s)", n.Name, err, n.LogFile)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill stops the node at once: SIGKILL for a child process; for a node in
// this process, nats-server's Shutdown, the most abrupt stop it has. A
// stopped node can be started again.
func (n *Node) Kill() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case n.cmd != nil:
		err := n.cmd.Process.Kill()
		n.cmd = nil
		return err
	case n.srv != nil:
		n.srv.Shutdown()
		n.srv.WaitForShutdown()
		n.srv = nil
	}
	return nil
}

// WaitJetStream waits until JetStream answers a client connected to this
// node alone: in a cluster, once the members have elected a leader.
func (n *Node) WaitJetStream(within time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var last error
	for ctx.Err() == nil {
		nc, err := nats.Connect(n.URL(), nats.Timeout(time.Second))
		if err == nil {
			js, jerr := jetstream.New(nc)
			if jerr == nil {
				actx, acancel := context.WithTimeout(ctx, 2*time.Second)
				_, err = js.AccountInfo(actx)
				acancel()
			} else {
				err = jerr
			}
			nc.Close()
			if err == nil {
				return nil
			}
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("nats node %s: JetStream not ready within %v: %v", n.Name, within, last)
}

// run starts the node's server in this process.
func (n *Node) run() (*server.Server, error) {
	opts := &server.Options{
		ServerName: n.Name, Host: "127.0.0.1", Port: n.Port,
		JetStream: true, StoreDir: n.StoreDir,
		JetStreamMaxMemory: 64 << 20, JetStreamMaxStore: 4 << 30,
		NoSigs: true, NoLog: n.LogFile == "", LogFile: n.LogFile,
		DisableJetStreamBanner: true,
	}
	if n.Cluster != "" {
		opts.Cluster = server.ClusterOpts{Name: n.Cluster, Host: "127.0.0.1", Port: n.ClusterPort}
		for _, p := range n.Routes {
			opts.Routes = append(opts.Routes, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", p)})
		}
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("nats node %s: %w", n.Name, err)
	}
	if n.LogFile != "" {
		s.ConfigureLogger()
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("nats node %s: not ready for connections", n.Name)
	}
	return s, nil
}

// RunChild runs a node and never returns when this process was started as
// one by StartProcesses; otherwise it returns at once. Call it first thing
// in TestMain.
func RunChild() {
	cfg := os.Getenv(childEnv)
	if cfg == "" {
		return
	}
	var n Node
	if err := json.Unmarshal([]byte(cfg), &n); err != nil {
		fmt.Fprintln(os.Stderr, "natstest:", err)
		os.Exit(2)
	}
	s, err := n.run()
	if err != nil {
		fmt.Fprintln(os.Stderr, "natstest:", err)
		os.Exit(1)
	}
	// Until killed; SIGTERM (a test's cleanup) stops it in order.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	<-sig
	s.Shutdown()
	os.Exit(0)
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// DeleteStreams deletes the JetStream streams named (a KV bucket's is
// KV_ and its name, an Object Store's OBJ_ and its name) from the server
// at url, as a server whose storage was lost comes back without them.
func DeleteStreams(t testing.TB, url string, names ...string) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if err := js.DeleteStream(context.Background(), name); err != nil {
			t.Fatalf("delete stream %s: %v", name, err)
		}
	}
}
