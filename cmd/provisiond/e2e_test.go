package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/provisiond/provisiond/internal/barrier"
	"github.com/provisiond/provisiond/internal/pgtest"
	"github.com/provisiond/provisiond/provisioning/webhook"
)

// These tests run provisiond as a separate process, as operators do: killed with SIGKILL
// mid-load, restarted, and two replicas racing on one PostgreSQL database.

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// binary builds provisiond once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "provisiond-bin"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "provisiond")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// proc is a running provisiond process in dev mode.
type proc struct {
	cmd    *exec.Cmd
	base   string
	token  string
	stderr *lineWriter
	exited chan struct{}
}

// startProc starts provisiond --dev in dir (where the dev key lives for non-SQLite stores).
func startProc(t *testing.T, dir string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"--dev", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Dir = dir
	out, errw := newLineWriter(), newLineWriter()
	cmd.Stdout, cmd.Stderr = out, errw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stderr: errw, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	t.Cleanup(p.kill)
	p.base = out.await(t, listeningRE)
	p.token = out.await(t, tokenRE)
	return p
}

func (p *proc) kill() {
	select {
	case <-p.exited:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.exited
	}
}

func tenantsURL(p *proc) string { return p.base + "/api/provisioning/tenants" }

// testCrashRecovery creates tenants from several clients, half of them with idempotency keys,
// kills the server with SIGKILL while they are at it, and restarts it. Every tenant that was
// acknowledged with 201 must be there; and a retry of every keyed request, even those cut off by
// the crash, must at once answer 201 — the kept answer byte for byte when there was one — never
// "in use" nor "exists": a change and its kept answer commit together.
func testCrashRecovery(t *testing.T, dir string, args ...string) {
	args = append(args, "--rate-limit", "0") // a load from one partner, and its retries at once
	p := startProc(t, dir, args...)
	type keyed struct{ key, body, answer string } // answer: the 201 body, "" when cut off
	var (
		mu    sync.Mutex
		acked []string
		keys  []keyed
		stop  atomic.Bool
		wg    sync.WaitGroup
	)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5000 && !stop.Load(); i++ {
				body := fmt.Sprintf(`{"company_name":"Crash %d-%d","email":"c@example.com"}`, w, i)
				key := ""
				if w%2 == 0 {
					key = fmt.Sprintf("crash-%d-%d", w, i)
				}
				st, _, answer, err := post(tenantsURL(p), p.token, key, body)
				if key != "" {
					k := keyed{key: key, body: body}
					if err == nil && st == 201 {
						k.answer = answer
					}
					mu.Lock()
					keys = append(keys, k)
					mu.Unlock()
				}
				if err != nil {
					return // the server is gone
				}
				if st == 201 {
					var tn struct{ Tenant string }
					_ = json.Unmarshal([]byte(answer), &tn)
					mu.Lock()
					acked = append(acked, tn.Tenant)
					mu.Unlock()
				}
			}
		}()
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 200 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.kill() // SIGKILL, mid-load
	stop.Store(true)
	wg.Wait()
	if len(acked) < 200 {
		t.Fatalf("only %d creates acknowledged before the deadline", len(acked))
	}

	p2 := startProc(t, dir, args...)
	for _, id := range acked {
		if st, body := call(t, "GET", tenantsURL(p2)+"/"+id, p2.token, ""); st != 200 {
			t.Fatalf("tenant %s was acknowledged with 201 but is gone after the crash: %d %s", id, st, body)
		}
	}
	cutOff := 0
	for _, k := range keys {
		st, replayed, answer, err := post(tenantsURL(p2), p2.token, k.key, k.body)
		switch {
		case err != nil:
			t.Fatalf("retry of %s: %v", k.key, err)
		case st != 201:
			t.Fatalf("retry of %s after the crash: %d %s", k.key, st, answer)
		case k.answer != "" && (!replayed || answer != k.answer):
			t.Fatalf("retry of acknowledged %s: replayed %v, %s; want %s", k.key, replayed, answer, k.answer)
		case k.answer == "":
			cutOff++
		}
	}
	t.Logf("%d acknowledged tenants all survived SIGKILL; %d keyed retries (%d cut off by the crash) all answered 201",
		len(acked), len(keys), cutOff)
}

// post creates with an optional idempotency key; it says whether the answer was replayed.
func post(url, token, key, body string) (status int, replayed bool, answer string, err error) {
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, false, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Idempotent-Replayed") == "true", string(b), err
}

func TestCrashRecoverySQLite(t *testing.T) {
	dir := t.TempDir()
	testCrashRecovery(t, dir, "--database-url", "sqlite:"+filepath.Join(dir, "p.db"))
}

func TestCrashRecoveryPostgres(t *testing.T) {
	testCrashRecovery(t, t.TempDir(), "--database-url", pgtest.URL(t))
}

// Two replicas on one database: 100 concurrent creates of one company name, split between
// them, give exactly one 201; every other answer is a 409 naming the winner.
func TestTwoReplicasRaceOnPostgres(t *testing.T) {
	dir, url := t.TempDir(), pgtest.URL(t)
	a := startProc(t, dir, "--database-url", url)
	b := startProc(t, dir, "--database-url", url) // same dir: the same dev key
	raceSameName(t, []*proc{a, b}, 100, "Contended Corp", "CONTENDED corp")
	if st, body := call(t, "GET", tenantsURL(b)+"?q=contended", b.token, ""); st != 200 || strings.Count(body, `"tenant":`) != 1 {
		t.Fatalf("list after the race: %d %s", st, body)
	}
}

// SIGTERM: in-flight requests finish, the process exits 0, and the data is there after restart.
func TestGracefulStopPostgres(t *testing.T) {
	dir, url := t.TempDir(), pgtest.URL(t)
	p := startProc(t, dir, "--database-url", url)
	var ids []string
	for i := range 20 {
		st, body := call(t, "POST", tenantsURL(p), p.token, fmt.Sprintf(`{"company_name":"Graceful %d","email":"g@example.com"}`, i))
		if st != 201 {
			t.Fatalf("create: %d %s", st, body)
		}
		var tn struct{ Tenant string }
		_ = json.Unmarshal([]byte(body), &tn)
		ids = append(ids, tn.Tenant)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("provisiond did not exit after SIGTERM")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code after SIGTERM = %d, want 0; stderr:\n%s", code, p.stderr.String())
	}
	p2 := startProc(t, dir, "--database-url", url, "--no-migrate")
	for _, id := range ids {
		if st, body := call(t, "GET", tenantsURL(p2)+"/"+id, p2.token, ""); st != 200 {
			t.Fatalf("after a graceful restart: %d %s", st, body)
		}
	}
}

// The same Idempotency-Key sent to two replicas at once acts once: one fresh 201, every other
// answer a replay of it or 409 idempotency_key_in_use.
func TestIdempotencyAcrossReplicasOnPostgres(t *testing.T) {
	dir, url := t.TempDir(), pgtest.URL(t)
	a := startProc(t, dir, "--database-url", url)
	b := startProc(t, dir, "--database-url", url)
	const n = 40
	type answer struct {
		status   int
		replayed bool
		body     string
	}
	answers := make([]answer, n)
	barrier.Run(n, func(i int) {
		p := []*proc{a, b}[i%2]
		req, _ := http.NewRequest("POST", tenantsURL(p), strings.NewReader(`{"company_name":"Once Corp","email":"o@example.com"}`))
		req.Header.Set("Authorization", "Bearer "+p.token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "order-4711")
		resp, err := client.Do(req)
		if err != nil {
			answers[i] = answer{body: err.Error()}
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		answers[i] = answer{resp.StatusCode, resp.Header.Get("Idempotent-Replayed") == "true", string(body)}
	})
	fresh, created := 0, ""
	for _, ans := range answers {
		if ans.status == 201 && !ans.replayed {
			fresh++
			created = ans.body
		}
	}
	if fresh != 1 {
		t.Fatalf("%d fresh creates, want 1", fresh)
	}
	for _, ans := range answers {
		switch {
		case ans.status == 201 && ans.body == created:
		case ans.status == 409 && strings.Contains(ans.body, "idempotency_key_in_use"):
		default:
			t.Fatalf("unexpected answer %d %s", ans.status, ans.body)
		}
	}
	if st, body := call(t, "GET", tenantsURL(a)+"?q=once", a.token, ""); st != 200 || strings.Count(body, `"tenant":`) != 1 {
		t.Fatalf("tenants after the storm: %d %s", st, body)
	}
}

// A webhook whose endpoint is down when the event happens, and whose provisiond is killed, is
// delivered — signed — once the endpoint is up and provisiond runs again.
func TestWebhookSurvivesCrashAndOutage(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--database-url", "sqlite:" + filepath.Join(dir, "p.db"), "--allow-private-webhooks"}
	// The endpoint answers 503 until it is up; it keeps its address throughout.
	var up atomic.Bool
	got := make(chan *http.Request, 4)
	bodies := make(chan []byte, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if !up.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		got <- r
		bodies <- b
	}))
	defer hook.Close()

	p := startProc(t, dir, args...)
	st, body := call(t, "POST", p.base+"/api/provisioning/webhooks", p.token, fmt.Sprintf(`{"url":%q}`, hook.URL+"/hook"))
	if st != 201 {
		t.Fatalf("register: %d %s", st, body)
	}
	var wh struct{ ID, Secret string }
	_ = json.Unmarshal([]byte(body), &wh)
	if st, body := call(t, "POST", tenantsURL(p), p.token, `{"company_name":"Hooked","email":"h@example.com"}`); st != 201 {
		t.Fatalf("create: %d %s", st, body)
	}
	deadline := time.Now().Add(20 * time.Second)
	for { // the first attempt fails against the endpoint that is down
		_, log := call(t, "GET", p.base+"/api/provisioning/webhooks/"+wh.ID+"/deliveries", p.token, "")
		if strings.Contains(log, `"attempts":1`) && strings.Contains(log, `"last_status":503`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed attempt recorded: %s", log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.kill()
	up.Store(true)

	startProc(t, dir, args...)
	select {
	case r := <-got:
		b := <-bodies
		if err := webhook.Verify(wh.Secret, r.Header, b, time.Now(), 5*time.Minute); err != nil || !strings.Contains(string(b), `"tenant.created"`) {
			t.Fatalf("delivered %s: %v", b, err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the event was not delivered after the restart")
	}
}

// A provisioning step whose server is killed with SIGKILL while the step's endpoint holds the
// call open is run again — by the restarted server, once the dead one's lease has ended — and
// completes: the tenant ends provisioned, with two attempts, both signed with the step secret
// under the same webhook-id (the step's idempotency key).
func TestStepSurvivesKill9(t *testing.T) {
	dir := t.TempDir()
	secret := newStepSecret(t)
	type attempt struct {
		header http.Header
		body   []byte
	}
	held, second := make(chan attempt, 1), make(chan attempt, 1)
	release := make(chan struct{})
	var n atomic.Int32
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		a := attempt{r.Header.Clone(), b}
		if n.Add(1) == 1 { // the first call is held open until its caller is gone
			held <- a
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		select {
		case second <- a:
		default:
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer endpoint.Close()
	defer close(release)
	args := []string{"--database-url", "sqlite:" + filepath.Join(dir, "p.db"), "--step", "admin-user=" + endpoint.URL + "/admin",
		"--step-secret", secret, "--step-timeout", "5s"} // the lease: 7.5 s

	p := startProc(t, dir, args...)
	st, body := call(t, "POST", tenantsURL(p), p.token, `{"company_name":"Crashed mid-step","email":"c@example.com"}`)
	if st != 201 {
		t.Fatalf("create: %d %s", st, body)
	}
	var tn struct{ Tenant string }
	_ = json.Unmarshal([]byte(body), &tn)
	var first attempt
	select {
	case first = <-held:
	case <-time.After(30 * time.Second):
		t.Fatal("the step was not called")
	}
	if _, body := call(t, "GET", tenantsURL(p)+"/"+tn.Tenant, p.token, ""); !strings.Contains(body, `"state":"running","attempts":1`) {
		t.Fatalf("while the step is held: %s", body)
	}
	p.kill() // SIGKILL, while the endpoint holds the step's call

	p2 := startProc(t, dir, args...)
	var again attempt
	select {
	case again = <-second:
	case <-time.After(60 * time.Second):
		t.Fatalf("the step was not run again after the restart; stderr:\n%s", p2.stderr.String())
	}
	for i, a := range []attempt{first, again} {
		if err := webhook.Verify(secret, a.header, a.body, time.Now(), 5*time.Minute); err != nil {
			t.Fatalf("attempt %d does not verify: %v", i+1, err)
		}
		if a.header.Get("webhook-id") != tn.Tenant+":admin-user" || !strings.Contains(string(a.body), fmt.Sprintf(`"attempt":%d`, i+1)) {
			t.Fatalf("attempt %d: webhook-id %q, body %s", i+1, a.header.Get("webhook-id"), a.body)
		}
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, body = call(t, "GET", tenantsURL(p2)+"/"+tn.Tenant, p2.token, "")
		if strings.Contains(body, `"provisioning":{"state":"succeeded","steps":[{"name":"admin-user","state":"succeeded","attempts":2,`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not provisioned after the restart: %s", body)
		}
	}
	if n.Load() != 2 {
		t.Fatalf("the step was called %d times, want 2", n.Load())
	}
}

// raceSameName sends n concurrent creates of one company name (written two ways, name and
// alike) spread over procs, and checks that exactly one is created and every other answer is a
// 409 naming it.
func raceSameName(t *testing.T, procs []*proc, n int, name, alike string) {
	t.Helper()
	type answer struct {
		status int
		body   string
	}
	answers := make([]answer, n)
	barrier.Run(n, func(i int) {
		p, nm := procs[i%len(procs)], name
		if i%2 == 0 {
			nm = alike
		}
		st, body, err := tryCall("POST", tenantsURL(p), p.token, fmt.Sprintf(`{"company_name":%q,"email":"r@example.com"}`, nm))
		if err != nil {
			body = err.Error()
		}
		answers[i] = answer{st, body}
	})
	var winner string
	for _, ans := range answers {
		if ans.status == 201 {
			if winner != "" {
				t.Fatal("two creates of one company name succeeded")
			}
			var tn struct{ Tenant string }
			_ = json.Unmarshal([]byte(ans.body), &tn)
			winner = tn.Tenant
		}
	}
	if winner == "" {
		t.Fatalf("no create succeeded: %d %s", answers[0].status, answers[0].body)
	}
	for _, ans := range answers {
		if ans.status == 201 {
			continue
		}
		var prob struct{ Code, Tenant string }
		_ = json.Unmarshal([]byte(ans.body), &prob)
		if ans.status != 409 || prob.Code != "tenant_exists" || prob.Tenant != winner {
			t.Fatalf("a loser got %d %s, want 409 naming %s", ans.status, ans.body, winner)
		}
	}
}
