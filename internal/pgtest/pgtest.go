// Package pgtest gives tests a real PostgreSQL: the server at PROVISIOND_TEST_DATABASE_URL, or
// else a throwaway cluster started from the installed PostgreSQL binaries in a temporary
// directory (as the postgres user when the tests run as root), listening on a Unix socket only
// and removed when the tests end. Each test gets its own schema (URL), or an empty database
// of its own reached through a throwaway PgBouncer in transaction pooling mode (BouncerURL,
// BouncerDB).
//
// Without a PostgreSQL (or a PgBouncer, for the tests that want one) the tests skip, except
// under CI=true, where they fail.
package pgtest

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	_ "github.com/lib/pq" // the driver the URL is checked with
)

// EnvURL names the variable that points tests at an existing server.
const EnvURL = "PROVISIOND_TEST_DATABASE_URL"

var (
	once    sync.Once
	baseURL string
	initErr error
	stop    func()
	schemas atomic.Int64
)

// Main runs the package's tests and then stops the PgBouncer and the cluster, if they were
// started. Call it from TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if bouncerStop != nil {
		bouncerStop()
	}
	if stop == nil && initErr == nil && baseURL != "" {
		dropDBs(baseURL) // the server at EnvURL outlives the tests
	}
	if stop != nil {
		stop()
	}
	return code
}

// URL returns the URL of a new, empty schema for one test (the search_path selects it).
func URL(t testing.TB) string {
	t.Helper()
	baseURL := server(t)
	db, err := sql.Open("postgres", baseURL)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer db.Close()
	schema := fmt.Sprintf("t%d_%d", os.Getpid(), schemas.Add(1))
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("pgtest: create schema: %v", err)
	}
	t.Cleanup(func() {
		if db, err := sql.Open("postgres", baseURL); err == nil {
			_, _ = db.Exec("DROP SCHEMA " + schema + " CASCADE")
			_ = db.Close()
		}
	})
	return withParam(baseURL, "search_path", schema)
}

func withParam(raw, key, value string) string {
	u, _ := url.Parse(raw)
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// start returns the base URL of the server to use, and how to stop it.
func start() (string, func(), error) {
	if u := os.Getenv(EnvURL); u != "" {
		return u, nil, ping(u)
	}
	bin, err := findBin()
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest")
	if err != nil {
		return "", nil, err
	}
	data := filepath.Join(dir, "data")
	asPostgres := os.Geteuid() == 0 // PostgreSQL refuses to run as root
	if asPostgres {
		pg, err := user.Lookup("postgres")
		if err != nil {
			return "", nil, fmt.Errorf("running as root and no postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return "", nil, err
		}
	}
	cmd := func(name string, args ...string) *exec.Cmd {
		path := filepath.Join(bin, name)
		if asPostgres {
			return exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
		}
		return exec.Command(path, args...)
	}
	run := func(c *exec.Cmd) error {
		if out, err := c.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v: %s", filepath.Base(c.Args[0]), err, out)
		}
		return nil
	}
	if err := run(cmd("initdb", "-D", data, "-U", "app", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync")); err != nil {
		_ = os.RemoveAll(dir)
		return "", nil, err
	}
	opts := "-c listen_addresses='' -k " + dir + " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
	if err := run(cmd("pg_ctl", "-D", data, "-l", filepath.Join(dir, "log"), "-w", "-t", "30", "-o", opts, "start")); err != nil {
		_ = os.RemoveAll(dir)
		return "", nil, err
	}
	stopFn := func() {
		_ = run(cmd("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"))
		_ = os.RemoveAll(dir)
	}
	u := "postgres://app@/postgres?sslmode=disable&host=" + url.QueryEscape(dir)
	if err := ping(u); err != nil {
		stopFn()
		return "", nil, err
	}
	return u, stopFn, nil
}

func ping(u string) error {
	db, err := sql.Open("postgres", u)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Ping()
}

// findBin finds the newest installed PostgreSQL's bin directory.
func findBin() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(strings.Split(dirs[i], "/")[4])
		vj, _ := strconv.Atoi(strings.Split(dirs[j], "/")[4])
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("no PostgreSQL binaries (initdb, pg_ctl) found")
}
