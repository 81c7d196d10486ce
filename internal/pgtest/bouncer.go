package pgtest

import (
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"
)

// A throwaway PgBouncer in front of the server, in transaction pooling mode and otherwise with
// PgBouncer's defaults: what a store must cope with behind the pooler operators put in front of
// PostgreSQL. It listens on 127.0.0.1 only, at a free port, and forwards every database name to
// the server (the [databases] wildcard), so that each test gets a database of its own: a
// search_path in the URL would be a startup parameter, which PgBouncer refuses.

var (
	bouncerOnce sync.Once
	bouncerPort int
	bouncerErr  error
	bouncerStop func()

	// Databases cost half a second to create: a test's is emptied when it ends and handed to
	// a later test.
	dbMu    sync.Mutex
	freeDBs []string
	allDBs  []string
)

// DB is the empty database of one test, reachable both ways.
type DB struct {
	Direct  string // the URL straight to PostgreSQL
	Bouncer string // the URL through PgBouncer in transaction pooling mode
}

// BouncerURL returns the URL, through PgBouncer, of an empty database for one test.
func BouncerURL(t testing.TB) string {
	t.Helper()
	return BouncerDB(t).Bouncer
}

// BouncerDB gives one test an empty database of its own until it ends, and returns its URLs
// straight to PostgreSQL and through PgBouncer. It starts the PgBouncer on first use, from the
// installed pgbouncer (as the postgres user when the tests run as root).
//
// Without a pgbouncer the test skips, except under CI=true, where it fails.
func BouncerDB(t testing.TB) DB {
	t.Helper()
	base := server(t)
	bouncerOnce.Do(func() { bouncerPort, bouncerStop, bouncerErr = startBouncer(base) })
	if bouncerErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("pgtest: PgBouncer is required under CI=true: %v", bouncerErr)
		}
		t.Skipf("pgtest: no PgBouncer (%v)", bouncerErr)
	}
	name, err := takeDB(base)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() { giveBackDB(base, name) })
	direct, _ := url.Parse(base)
	direct.Path = "/" + name
	via := url.URL{Scheme: "postgres", User: url.User(serverUser(direct)),
		Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(bouncerPort)), Path: "/" + name, RawQuery: "sslmode=disable"}
	return DB{Direct: direct.String(), Bouncer: via.String()}
}

// takeDB returns an empty database that no test uses, creating one if none is free.
func takeDB(base string) (string, error) {
	dbMu.Lock()
	if n := len(freeDBs); n > 0 {
		name := freeDBs[n-1]
		freeDBs = freeDBs[:n-1]
		dbMu.Unlock()
		return name, nil
	}
	dbMu.Unlock()
	name := fmt.Sprintf("t%d_%d", os.Getpid(), schemas.Add(1))
	if err := onServer(base, "", "CREATE DATABASE "+pq.QuoteIdentifier(name)); err != nil {
		return "", fmt.Errorf("create database: %w", err)
	}
	dbMu.Lock()
	allDBs = append(allDBs, name)
	dbMu.Unlock()
	return name, nil
}

// giveBackDB empties a test's database — its public schema made anew — and frees it for
// another test; one that cannot be emptied soon (a session the test left in a transaction
// holds a lock) is dropped. The server connections PgBouncer keeps to it stay: they hold no
// state of the test's, which is what the store must ensure anyway.
func giveBackDB(base, name string) {
	err := onServer(base, name, "DROP SCHEMA IF EXISTS public CASCADE", "CREATE SCHEMA public")
	if err != nil {
		_ = onServer(base, "", "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)")
		return
	}
	dbMu.Lock()
	freeDBs = append(freeDBs, name)
	dbMu.Unlock()
}

// dropDBs drops the tests' databases, for a server that outlives the tests.
func dropDBs(base string) {
	dbMu.Lock()
	defer dbMu.Unlock()
	for _, name := range allDBs {
		_ = onServer(base, "", "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)")
	}
	allDBs, freeDBs = nil, nil
}

// onServer runs statements straight on the server, in the database name ("" for the base URL's).
func onServer(base, name string, stmts ...string) error {
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	if name != "" {
		u.Path = "/" + name
	}
	q := u.Query()
	q.Set("lock_timeout", "5000") // a startup parameter: straight to PostgreSQL
	u.RawQuery = q.Encode()
	db, err := sql.Open("postgres", u.String())
	if err != nil {
		return err
	}
	defer db.Close()
	for _, stmt := range stmts {
		if _, err := db.Exec(stmt); err != nil {
			return err
		}
	}
	return nil
}

// server returns the base URL of the PostgreSQL server, starting the throwaway cluster if
// there is none; it skips or fails the test as URL does when there is no PostgreSQL.
func server(t testing.TB) string {
	t.Helper()
	once.Do(func() { baseURL, stop, initErr = start() })
	if initErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("pgtest: PostgreSQL is required under CI=true: %v", initErr)
		}
		t.Skipf("pgtest: no PostgreSQL (%v); set %s", initErr, EnvURL)
	}
	return baseURL
}

// serverUser is the role the URL logs in as: PgBouncer's clients log in as it too.
func serverUser(u *url.URL) string {
	if name := u.User.Username(); name != "" {
		return name
	}
	if name := u.Query().Get("user"); name != "" {
		return name
	}
	if name := os.Getenv("PGUSER"); name != "" {
		return name
	}
	if me, err := user.Current(); err == nil {
		return me.Username
	}
	return "postgres"
}

// bouncerConfig is the pgbouncer.ini of the test PgBouncer: what the defaults leave to the
// operator (where to listen, who may log in, where the server is) and pool_mode; nothing else.
func bouncerConfig(base *url.URL, port int, authFile string) string {
	q := base.Query()
	host, serverPort := q.Get("host"), q.Get("port")
	if base.Hostname() != "" {
		host = base.Hostname()
	}
	if base.Port() != "" {
		serverPort = base.Port()
	}
	target := "host=" + host
	if serverPort != "" {
		target += " port=" + serverPort
	}
	if pw, ok := base.User.Password(); ok {
		target += " user=" + serverUser(base) + " password=" + pw
	}
	return fmt.Sprintf(`[databases]
* = %s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s
pool_mode = transaction
`, target, port, authFile)
}

// findBouncer finds the pgbouncer program, which Debian installs outside a user's PATH.
func findBouncer() (string, error) {
	if p, err := exec.LookPath("pgbouncer"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/pgbouncer", "/usr/local/sbin/pgbouncer"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no pgbouncer program found")
}

// startBouncer starts PgBouncer in front of the server at base and returns its port and how
// to stop it. A free port may be taken by another process before PgBouncer binds it: then it
// tries another.
func startBouncer(base string) (int, func(), error) {
	bin, err := findBouncer()
	if err != nil {
		return 0, nil, err
	}
	u, err := url.Parse(base)
	if err != nil {
		return 0, nil, err
	}
	dir, err := os.MkdirTemp("", "pgbouncer")
	if err != nil {
		return 0, nil, err
	}
	asPostgres := os.Geteuid() == 0 // PgBouncer refuses to run as root
	if asPostgres {
		pg, err := user.Lookup("postgres")
		if err != nil {
			_ = os.RemoveAll(dir)
			return 0, nil, fmt.Errorf("running as root and no postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			_ = os.RemoveAll(dir)
			return 0, nil, err
		}
	}
	authFile := filepath.Join(dir, "users.txt")
	if err := os.WriteFile(authFile, []byte(fmt.Sprintf("%q \"\"\n", serverUser(u))), 0o644); err != nil {
		_ = os.RemoveAll(dir)
		return 0, nil, err
	}
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			_ = os.RemoveAll(dir)
			return 0, nil, err
		}
		ini := filepath.Join(dir, "pgbouncer.ini")
		if err := os.WriteFile(ini, []byte(bouncerConfig(u, port, authFile)), 0o644); err != nil {
			_ = os.RemoveAll(dir)
			return 0, nil, err
		}
		stopFn, err := runBouncer(bin, ini, filepath.Join(dir, "log"), asPostgres, u, port)
		if err == nil {
			return port, func() { stopFn(); _ = os.RemoveAll(dir) }, nil
		}
		lastErr = err
	}
	_ = os.RemoveAll(dir)
	return 0, nil, lastErr
}

// runBouncer starts pgbouncer with the configuration ini and waits until it answers.
func runBouncer(bin, ini, logPath string, asPostgres bool, base *url.URL, port int) (func(), error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(bin, ini)
	if asPostgres {
		// Not through runuser, which would not pass signals on: cmd.Process is pgbouncer.
		pg, err := user.Lookup("postgres")
		if err != nil {
			return nil, err
		}
		uid, _ := strconv.ParseUint(pg.Uid, 10, 32)
		gid, _ := strconv.ParseUint(pg.Gid, 10, 32)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stopFn := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM) // an immediate shutdown in PgBouncer 1.18
		select {
		case <-exited:
		case <-time.After(5 * time.Second): // later versions wait for their clients
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	probe := url.URL{Scheme: "postgres", User: url.User(serverUser(base)),
		Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Path: base.Path, RawQuery: "sslmode=disable&connect_timeout=5"}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			log, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("pgbouncer exited: %s", tail(log))
		default:
		}
		if err := ping(probe.String()); err == nil {
			return stopFn, nil
		} else if time.Now().After(deadline) {
			stopFn()
			log, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("pgbouncer does not answer: %v: %s", err, tail(log))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail returns the last lines of a log, for an error message.
func tail(log []byte) string {
	lines := strings.Split(strings.TrimSpace(string(log)), "\n")
	if len(lines) > 10 {
		lines = lines[len(lines)-10:]
	}
	return strings.Join(lines, "\n")
}
