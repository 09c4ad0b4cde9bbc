package chtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/telcoretain/churn/clickhouse"
)

// Server is a private clickhouse-server process for one test, for fault tests
// that stop and restart ClickHouse: the shared server on 127.0.0.1:9000 must
// never be stopped, since other tests use it at the same time. The process
// has its own temporary data directory, configuration and free port, and is
// killed when the test ends.
//
// Debian's clickhouse-server 18.16 runs as root when its data directory
// belongs to root, so the process runs as the test's user.
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
	done chan error
}

// StartServer starts a private server and waits until it answers. Without a
// clickhouse-server binary the test is skipped, or fails when CI=true.
func StartServer(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("clickhouse-server")
	if err != nil {
		unavailable(t, fmt.Errorf("clickhouse-server is not installed (run `make clickhouse`): %w", err))
	}
	port, err := freePort()
	if err != nil {
		t.Fatalf("private ClickHouse: find a free port: %v", err)
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir(), port: port}
	if err := s.writeConfig(); err != nil {
		t.Fatalf("private ClickHouse: %v", err)
	}
	t.Cleanup(func() { s.Stop() })
	s.Start()
	return s
}

func unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("ClickHouse is required in CI: %v", err)
	}
	t.Skipf("no private ClickHouse (set CI=true to make this a failure): %v", err)
}

// Addr is the host:port of the server's native protocol.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// Config returns a configuration for a database with a unique name on this server.
func (s *Server) Config() clickhouse.Config {
	cfg := Config()
	cfg.Addr, cfg.User, cfg.Password = s.Addr(), "default", ""
	cfg.DialTimeout = 2 * time.Second
	return cfg
}

// NewDB creates a migrated database on this server and returns a client to it.
func (s *Server) NewDB(t testing.TB) (*clickhouse.Client, clickhouse.Config) {
	t.Helper()
	ctx := context.Background()
	cfg := s.Config()
	if _, err := clickhouse.Migrate(ctx, cfg, nil); err != nil {
		t.Fatalf("migrate %s on the private server: %v", cfg.Database, err)
	}
	c, err := clickhouse.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatalf("open %s on the private server: %v", cfg.Database, err)
	}
	t.Cleanup(func() { c.Close() })
	return c, cfg
}

// Start starts the server (again, after Stop) on the same port and data
// directory, and waits until it answers.
func (s *Server) Start() {
	s.t.Helper()
	if s.cmd != nil {
		s.t.Fatalf("private ClickHouse on %s is already running", s.Addr())
	}
	cmd := exec.Command(s.bin, "--config-file="+filepath.Join(s.dir, "config.xml"))
	cmd.Dir = s.dir
	// SYSTEM SHUTDOWN makes 18.16 send SIGTERM to its whole process group
	// (kill(0, SIGTERM)): in a group of its own it takes only itself down,
	// not the test binary.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		unavailable(s.t, fmt.Errorf("start %s: %w", s.bin, err))
	}
	s.cmd, s.done = cmd, make(chan error, 1)
	go func() { s.done <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-s.done:
			s.cmd = nil
			s.t.Fatalf("private ClickHouse exited while starting: %v\n%s\n%s", err, out.String(), s.errorLog())
		default:
		}
		if s.answers() {
			return
		}
		if time.Now().After(deadline) {
			s.Stop()
			s.t.Fatalf("private ClickHouse did not answer on %s within 60s\n%s", s.Addr(), s.errorLog())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop kills the server, as a crash would, and waits until it has exited.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// Pause freezes the server with SIGSTOP, as a hung server: its sockets stay
// open and accept connections, and nothing answers. Resume undoes it; Stop
// kills a paused server too. Pause registers a Resume at the test's end, so
// that a failing test never leaves a stopped process behind.
func (s *Server) Pause() {
	s.t.Helper()
	if s.cmd == nil {
		s.t.Fatalf("private ClickHouse on %s is not running", s.Addr())
	}
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		s.t.Fatalf("pause private ClickHouse: %v", err)
	}
	s.t.Cleanup(s.Resume)
}

// Resume lets a paused server run again (SIGCONT); it does nothing to a
// server that is not running.
func (s *Server) Resume() {
	if s.cmd != nil {
		_ = s.cmd.Process.Signal(syscall.SIGCONT)
	}
}

func (s *Server) answers() bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	cfg := s.Config()
	cfg.Database, cfg.DialTimeout = "default", 500*time.Millisecond
	c, err := clickhouse.Open(ctx, cfg, nil)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func (s *Server) errorLog() string {
	b, err := os.ReadFile(filepath.Join(s.dir, "log", "server.err.log"))
	if err != nil {
		return "(no error log)"
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// writeConfig writes a minimal configuration: only the native port (no HTTP
// or interserver ports that would collide with the shared server), loopback
// only, every path under the temporary directory, and a default user without
// a password.
func (s *Server) writeConfig() error {
	for _, d := range []string{"data", "tmp", "log", "user_files", "format_schemas"} {
		if err := os.MkdirAll(filepath.Join(s.dir, d), 0o755); err != nil {
			return err
		}
	}
	config := fmt.Sprintf(`<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>%[1]s/log/server.log</log>
    <errorlog>%[1]s/log/server.err.log</errorlog>
    <size>10M</size>
    <count>1</count>
  </logger>
  <tcp_port>%[2]d</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>%[1]s/data/</path>
  <tmp_path>%[1]s/tmp/</tmp_path>
  <user_files_path>%[1]s/user_files/</user_files_path>
  <format_schema_path>%[1]s/format_schemas/</format_schema_path>
  <users_config>%[1]s/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <max_concurrent_queries>50</max_concurrent_queries>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
</yandex>
`, s.dir, s.port)
	users := `<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default></default></quotas>
</yandex>
`
	return errors.Join(
		os.WriteFile(filepath.Join(s.dir, "config.xml"), []byte(config), 0o644),
		os.WriteFile(filepath.Join(s.dir, "users.xml"), []byte(users), 0o644))
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
