#!/usr/bin/env bash
# Benchmark on loopback: every ratio the performance goals name, measured in one run on one
# machine, printed as one table. It starts and stops everything itself (a throwaway durable
# PostgreSQL and a PgBouncer in transaction pooling mode, run as the postgres OS user when
# started as root; provisiond; a bare net/http server) and sends traffic only to 127.0.0.1.
#
#   scripts/bench.sh [seconds] [connections]     defaults: 10 s a measurement, 16 connections
#
# Environment:
#   PARTNERS=N    creates rotate over N partners' tokens (default 1)
#   KEYED=1       every create carries its own Idempotency-Key
#   PROFILE=FILE  also take a 10 s CPU profile of provisiond under the PostgreSQL create load
#                 (go tool pprof -top FILE)
#   BULKS=N       bulk requests of 1,000 tenants per store (default 3)
#
# Rows of the table:
#   GET                  GET /tenants/{id} on the memory store (auth, logging, metrics on) vs a
#                        bare net/http handler answering the same bytes
#   create vs INSERT     provisiond creates/s on PostgreSQL vs pgbench running the tenant INSERT
#                        alone in autocommit
#   create vs create tx  vs pgbench running, in one transaction, the statements a create makes:
#                        quota, tenant with configuration, event with its webhook fan-out
#   bulk vs single       tenants/s of POST /tenants/bulk with 1,000 items (atomic and not) vs
#                        single creates/s, on PostgreSQL and on SQLite
#   PgBouncer vs direct  creates/s through PgBouncer vs straight to PostgreSQL
#   peak RSS             VmHWM of provisiond on PostgreSQL after its create load and bulks
#
# Needs wrk, curl, go and the PostgreSQL server binaries, pgbench and pgbouncer. As root it
# installs what is missing (apt-get install -y wrk curl pgbouncer postgresql); otherwise it
# says what to install.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-16}
partners=${PARTNERS:-1}
bulks=${BULKS:-3}

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v curl >/dev/null || need+=(curl)
command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] || need+=(pgbouncer)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y "${need[@]}" >/dev/null || { apt-get update >/dev/null && apt-get install -y "${need[@]}" >/dev/null; }
  else
    echo "bench.sh: missing ${need[*]} (apt-get install -y ${need[*]})" >&2; exit 1
  fi
fi
bin=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
bouncer=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)

work=$(mktemp -d)
chmod 755 "$work"
as_pg=()
if [ "$(id -u)" = 0 ]; then chown postgres "$work"; as_pg=(runuser -u postgres --); fi
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  [ -f "$work/bouncer.pid" ] && kill "$(cat "$work/bouncer.pid")" 2>/dev/null || true
  "${as_pg[@]}" "$bin/pg_ctl" -D "$work/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((40000 + RANDOM % 20000)); }

# --- PostgreSQL (durable: fsync on, synchronous commit, what production runs) and PgBouncer.
port=$(free_port)
"${as_pg[@]}" "$bin/initdb" -D "$work/data" -U app -A trust -E UTF8 --no-locale >/dev/null
"${as_pg[@]}" "$bin/pg_ctl" -D "$work/data" -l "$work/pg.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $work -c max_connections=200" start >/dev/null
"${as_pg[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U app bench_bouncer
url="postgres://app@127.0.0.1:$port/postgres?sslmode=disable"
bport=$(free_port)
echo '"app" ""' >"$work/users.txt"
cat >"$work/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$port

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bport
unix_socket_dir =
auth_type = trust
auth_file = $work/users.txt
pool_mode = transaction
max_client_conn = 400
default_pool_size = 20
logfile = $work/pgbouncer.log
pidfile = $work/bouncer.pid
INI
"${as_pg[@]}" "$bouncer" -d "$work/pgbouncer.ini"
burl="postgres://app@127.0.0.1:$bport/bench_bouncer?sslmode=disable"

# --- Binaries.
go build -o "$work/provisiond" ./cmd/provisiond
[ -n "${PROFILE:-}" ] && go build -tags pprof -o "$work/provisiond-pprof" ./cmd/provisiond
go build -o "$work/bare" ./scripts/bench/bare

# start_provisiond NAME DATABASE-URL [BINARY]: runs provisiond in $work/NAME, sets pid, base
# and TOKENS (PARTNERS tokens).
start_provisiond() {
  local name=$1 db=$2 binary=${3:-provisiond}
  mkdir -p "$work/$name"
  (cd "$work/$name" && exec "../$binary" --dev --addr 127.0.0.1:0 --database-url "$db" \
    --rate-limit 0 --failed-auth-limit 0 >"$work/$name/out" 2>"$work/$name/err") &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 300); do grep -q "export TOKEN=" "$work/$name/out" 2>/dev/null && break; sleep 0.1; done
  base=$(grep -o 'listening on http://[^ ]*' "$work/$name/out" | cut -d' ' -f3)
  TOKEN=$(grep -o 'export TOKEN=[^ ]*' "$work/$name/out" | cut -d= -f2)
  [ -n "$base" ] && [ -n "$TOKEN" ] || { echo "bench.sh: provisiond ($name) did not start:" >&2; cat "$work/$name/err" >&2; exit 1; }
  TOKENS=$TOKEN
  for i in $(seq 2 "$partners"); do
    TOKENS="$TOKENS $(cd "$work/$name" && ../provisiond token --database-url "$db" --partner "bench-partner-$i")"
  done
  export TOKENS
}
stop() { kill "$1" 2>/dev/null && wait "$1" 2>/dev/null || true; }

cat >"$work/create.lua" <<'LUA'
local n, threads = 0, 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
function init() prefix = tid .. "-" .. math.random(1000000000) end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local tokens = {}
for t in string.gmatch(os.getenv("TOKENS"), "%S+") do tokens[#tokens + 1] = t end
function request()
  n = n + 1
  wrk.headers["Authorization"] = "Bearer " .. tokens[(n % #tokens) + 1]
  if os.getenv("KEYED") then wrk.headers["Idempotency-Key"] = prefix .. "-" .. n end
  return wrk.format(nil, nil, nil,
    string.format('{"company_name":"Bench %s-%d","email":"bench@example.com"}', prefix, n))
end
LUA

# wrk_rate FILE: requests/s of a wrk run; fails the bench when any answer was not 2xx.
wrk_rate() {
  if grep -q "Non-2xx" "$1"; then echo "bench.sh: non-2xx answers:" >&2; cat "$1" >&2; exit 1; fi
  awk '/Requests\/sec/ {print $2}' "$1"
}
creates() { # creates NAME: wrk POST load on $base, prints creates/s
  wrk -t2 -c"$conns" -d"${secs}s" -s "$work/create.lua" "$base/api/provisioning/tenants" >"$work/$1.wrk"
  wrk_rate "$work/$1.wrk"
}
# bulk NAME ATOMIC: BULKS requests of 1,000 new tenants each, one after another; prints tenants/s.
bulk() {
  local name=$1 atomic=$2 start end total=0
  for r in $(seq "$bulks"); do
    awk -v r="$r-$RANDOM$RANDOM" -v a="$atomic" 'BEGIN { printf "{\"atomic\":%s,\"tenants\":[", a;
      for (i = 0; i < 1000; i++) printf "%s{\"company_name\":\"Bulk %s-%d\",\"email\":\"bulk@example.com\"}", (i ? "," : ""), r, i;
      print "]}" }' >"$work/bulk.json"
    start=$(date +%s%N)
    code=$(curl -s -o "$work/bulk.out" -w '%{http_code}' -X POST "$base/api/provisioning/tenants/bulk" \
      -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' --data-binary @"$work/bulk.json")
    end=$(date +%s%N)
    created=$(grep -o '"status":201' "$work/bulk.out" | wc -l)
    [ "$code" = 200 ] && [ "$created" = 1000 ] || { echo "bench.sh: bulk ($name) answered $code, $created created" >&2; head -c 600 "$work/bulk.out" >&2; exit 1; }
    total=$((total + end - start))
  done
  awk -v n="$bulks" -v t="$total" 'BEGIN { printf "%.0f", n * 1000 / (t / 1e9) }'
}

rows=()
row() { rows+=("$(printf '%-44s %12s %12s %7s  %s' "$1" "$2" "$3" "$(awk -v a="$2" -v b="$3" 'BEGIN { printf "%.2f", a / b }')" "$4")"); }

# --- GET: provisiond (memory store) vs a bare server answering the same bytes.
echo "bench.sh: GET, ${secs}s each" >&2
start_provisiond mem memory:
tid=$(curl -s -X POST "$base/api/provisioning/tenants" -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' -d '{"company_name":"Bench Get","email":"get@example.com"}' |
  grep -o '"tenant":"[^"]*"' | head -1 | cut -d'"' -f4)
curl -s -o "$work/get.body" -D "$work/get.head" "$base/api/provisioning/tenants/$tid" -H "Authorization: Bearer $TOKEN"
ctype=$(awk -F': ' 'tolower($1) == "content-type" {print $2}' "$work/get.head" | tr -d '\r')
wrk -t2 -c"$conns" -d"${secs}s" -H "Authorization: Bearer $TOKEN" "$base/api/provisioning/tenants/$tid" >"$work/get.wrk"
get=$(wrk_rate "$work/get.wrk")
stop "$pid"
(exec "$work/bare" -addr 127.0.0.1:0 -body "$work/get.body" -type "$ctype" >"$work/bare.out") &
barepid=$!; pids+=("$barepid")
for _ in $(seq 100); do grep -q listening "$work/bare.out" 2>/dev/null && break; sleep 0.1; done
barebase=$(grep -o 'http://[^ ]*' "$work/bare.out")
wrk -t2 -c"$conns" -d"${secs}s" -H "Authorization: Bearer $TOKEN" "$barebase/api/provisioning/tenants/$tid" >"$work/bare.wrk"
bare=$(wrk_rate "$work/bare.wrk")
stop "$barepid"
row "GET /tenants/{id} req/s vs bare net/http" "$get" "$bare" "memory store, $(wc -c <"$work/get.body") bytes"

# --- Creates on PostgreSQL, straight and through PgBouncer, vs pgbench.
echo "bench.sh: creates on PostgreSQL, ${secs}s each" >&2
bin_name=provisiond
[ -n "${PROFILE:-}" ] && bin_name=provisiond-pprof
pprof_port=$(free_port)
PROVISIOND_PPROF_ADDR=127.0.0.1:$pprof_port start_provisiond pg "$url" "$bin_name"
pgpid=$pid
if [ -n "${PROFILE:-}" ]; then
  curl -s -o "$PROFILE" "http://127.0.0.1:$pprof_port/debug/pprof/profile?seconds=$((secs > 2 ? secs - 2 : secs))" &
  profpid=$!
fi
pgc=$(creates pg)
[ -n "${PROFILE:-}" ] && wait "$profpid"
pgbulk=$(bulk pg false)
pgbulka=$(bulk pg true)
rss=$(awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$pgpid/status")
stop "$pgpid"

start_provisiond bouncer "$burl"
bc=$(creates bouncer)
stop "$pid"

cat >"$work/insert.sql" <<'SQL'
\set n random(1, 1000000000000)
INSERT INTO tenants (id, partner_id, company_name, name_key, key_version, email, status, version, created_at, updated_at)
VALUES (gen_random_uuid(), 'pgbench', 'Bench ' || :n || '-' || :client_id, 'bench ' || :n || '-' || :client_id, 2,
        'bench@example.com', 'active', 1, now(), now());
SQL
# The statements of one create, as provisiond's store sends them on PostgreSQL: the quota of a
# partner with a limit, the tenant with its configuration, the event with its deliveries (the
# last two are functions of the schema).
cat >"$work/create_tx.sql" <<SQL
\\set n random(1, 1000000000000)
\\set p random(1, $partners)
BEGIN;
SELECT max_tenants FROM partners WHERE id = 'pgbench-' || :p AND max_tenants IS NOT NULL FOR UPDATE;
SELECT provisioning_insert_tenant(('00000000-0000-4000-8000-' || lpad(to_hex(:n::bigint), 12, '0'))::uuid, 'pgbench-' || :p,
  'Bench ' || :n, 'bench ' || :n, 2, 'bench@example.com', NULL, NULL, NULL, 'active', NULL, 1, now(), now(), NULL, '{}', 1, now());
SELECT provisioning_append_event(gen_random_uuid(), 'pgbench-' || :p, 'tenant.created',
  ('00000000-0000-4000-8000-' || lpad(to_hex(:n::bigint), 12, '0'))::uuid, 'bench', 'bench', now(), '{"tenant":{}}');
COMMIT;
SQL
# The issue's baseline: the tenant and its event in one transaction.
cat >"$work/tenant_event.sql" <<SQL
\\set n random(1, 1000000000000)
\\set p random(1, $partners)
BEGIN;
INSERT INTO tenants (id, partner_id, company_name, name_key, key_version, email, status, version, created_at, updated_at)
VALUES (('00000000-0000-4000-9000-' || lpad(to_hex(:n::bigint), 12, '0'))::uuid, 'pgbench-te-' || :p, 'Bench ' || :n, 'bench ' || :n, 2,
        'bench@example.com', 'active', 1, now(), now());
INSERT INTO events (id, partner_id, type, tenant_id, actor, request_id, created_at, data)
VALUES (gen_random_uuid(), 'pgbench-te-' || :p, 'tenant.created', ('00000000-0000-4000-9000-' || lpad(to_hex(:n::bigint), 12, '0'))::uuid,
        'bench', 'bench', now(), '{"tenant":{}}'::jsonb);
COMMIT;
SQL
pgb() { "$bin/pgbench" -n -h 127.0.0.1 -p "$port" -U app -c "$conns" -j 2 -T "$secs" -M prepared -f "$1" postgres >"$1.out" 2>&1 || { cat "$1.out" >&2; exit 1; }
  awk '/^tps/ {printf "%.0f", $3; exit}' "$1.out"; }
echo "bench.sh: pgbench, ${secs}s each" >&2
ins=$(pgb "$work/insert.sql")
ctx=$(pgb "$work/create_tx.sql")
te=$(pgb "$work/tenant_event.sql")

row "PostgreSQL creates/s vs pgbench INSERT" "$pgc" "$ins" "$conns clients, $partners partner(s)"
row "PostgreSQL creates/s vs pgbench create tx" "$pgc" "$ctx" "quota+tenant+config+fan-out+event, one tx"
row "PostgreSQL creates/s vs pgbench tenant+event" "$pgc" "$te" "one tx (the issue's baseline)"
row "PgBouncer creates/s vs direct" "$bc" "$pgc" "transaction pooling, pool 20"
row "PostgreSQL bulk-1000 tenants/s vs single" "$pgbulk" "$pgc" "not atomic, $bulks requests"
row "PostgreSQL bulk-1000 atomic tenants/s vs single" "$pgbulka" "$pgc" "atomic, $bulks requests"

# --- SQLite.
echo "bench.sh: SQLite, ${secs}s" >&2
start_provisiond sqlite "sqlite:$work/bench.db"
sqc=$(creates sqlite)
sqbulk=$(bulk sqlite false)
sqbulka=$(bulk sqlite true)
stop "$pid"
row "SQLite bulk-1000 tenants/s vs single" "$sqbulk" "$sqc" "not atomic, $bulks requests"
row "SQLite bulk-1000 atomic tenants/s vs single" "$sqbulka" "$sqc" "atomic, $bulks requests"

echo
echo "provisiond benchmark: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), PostgreSQL $("$bin/postgres" -V | awk '{print $3}') durable, wrk -t2 -c$conns, ${secs}s a measurement"
printf '%-44s %12s %12s %7s  %s\n' "measurement" "provisiond" "baseline" "ratio" "note"
printf '%s\n' "${rows[@]}"
printf '%-44s %12s %12s %7s  %s\n' "peak RSS MiB (VmHWM), PostgreSQL run" "$rss" "48" \
  "$(awk -v a="$rss" 'BEGIN { printf "%.2f", a / 48 }')" "after create load and $((bulks * 2)) bulks; goal <= 48"
[ -n "${PROFILE:-}" ] && echo "CPU profile of the PostgreSQL create load: $PROFILE (go tool pprof -top $PROFILE)"
exit 0
