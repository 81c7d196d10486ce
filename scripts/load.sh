#!/usr/bin/env bash
# Load test on loopback: provisiond's create throughput on PostgreSQL next to pgbench running the
# equivalent INSERT on the same throwaway server, in the same run. It starts and stops
# everything itself and sends traffic only to 127.0.0.1.
#
#   scripts/load.sh [seconds] [connections] [partners]   (defaults: 10 s, 32 connections, 1 partner)
#   KEYED=1 scripts/load.sh ...                          every create with its own Idempotency-Key
#
# With several partners the requests rotate over their tokens: a partner's events are ordered by
# a lock held until commit, so one partner's creates serialize there and many partners' do not.
#
# Needs wrk (apt-get install wrk) and the PostgreSQL server binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-32}
partners=${3:-1}

command -v wrk >/dev/null || { echo "load.sh: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
bin=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
work=$(mktemp -d)
chmod 755 "$work"
as_pg=()
if [ "$(id -u)" = 0 ]; then chown postgres "$work"; as_pg=(runuser -u postgres --); fi
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  "${as_pg[@]}" "$bin/pg_ctl" -D "$work/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

port=55439
"${as_pg[@]}" "$bin/initdb" -D "$work/data" -U app -A trust -E UTF8 --no-locale >/dev/null
# Durable settings (fsync on, synchronous commit): what production runs.
"${as_pg[@]}" "$bin/pg_ctl" -D "$work/data" -l "$work/pg.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $work -c max_connections=200" start >/dev/null
url="postgres://app@127.0.0.1:$port/postgres?sslmode=disable"

go build -o "$work/provisiond" ./cmd/provisiond
(cd "$work" && exec ./provisiond --dev --addr 127.0.0.1:0 --database-url "$url" >"$work/out" 2>/dev/null) &
pid=$!
for _ in $(seq 100); do grep -q "export TOKEN=" "$work/out" 2>/dev/null && break; sleep 0.1; done
base=$(grep -o 'listening on http://[^ ]*' "$work/out" | cut -d' ' -f3)
export TOKEN=$(grep -o 'export TOKEN=[^ ]*' "$work/out" | cut -d= -f2)
TOKENS=$TOKEN
for i in $(seq 2 "$partners"); do
  TOKENS="$TOKENS $(cd "$work" && ./provisiond token --database-url "$url" --partner "load-partner-$i")"
done
export TOKENS

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
    string.format('{"company_name":"Load %s-%d","email":"load@example.com"}', prefix, n))
end
LUA
cat >"$work/insert.sql" <<'SQL'
\set n random(1, 1000000000000)
INSERT INTO tenants (id, partner_id, company_name, name_key, email, status, version, created_at, updated_at)
VALUES (gen_random_uuid(), 'pgbench', 'Load ' || :n || '-' || :client_id, 'load ' || :n || '-' || :client_id,
        'load@example.com', 'active', 1, now(), now());
SQL
{ echo "BEGIN;"; tail -n +2 "$work/insert.sql"; echo "COMMIT;"; } | { echo '\set n random(1, 1000000000000)'; cat; } >"$work/insert_tx.sql"

# CPU ticks used so far by provisiond, and by the PostgreSQL server processes.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
pgticks() { local t=0; for p in $(pgrep -u postgres postgres); do t=$((t + $(ticks "$p" 2>/dev/null || echo 0))); done; echo $t; }

echo "== provisiond: POST /api/provisioning/tenants, $conns connections, $partners partner(s), ${secs}s"
before=$(ticks "$pid"); pgbefore=$(pgticks)
wrk -t2 -c"$conns" -d"${secs}s" -s "$work/create.lua" "$base/api/provisioning/tenants" | tee "$work/wrk.txt"
cpu=$(( $(ticks "$pid") - before )); pgcpu=$(( $(pgticks) - pgbefore ))
echo "== pgbench: the same INSERT in autocommit, $conns clients, ${secs}s"
"$bin/pgbench" -n -h 127.0.0.1 -p "$port" -U app -c "$conns" -j 2 -T "$secs" -M prepared -f "$work/insert.sql" postgres | tee "$work/pg.txt"
echo "== pgbench: BEGIN; INSERT; COMMIT (the round trips provisiond makes), $conns clients, ${secs}s"
"$bin/pgbench" -n -h 127.0.0.1 -p "$port" -U app -c "$conns" -j 2 -T "$secs" -M prepared -f "$work/insert_tx.sql" postgres | tee "$work/pgtx.txt"

rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
tps=$(awk '/^tps/ {print $3; exit}' "$work/pg.txt")
tpstx=$(awk '/^tps/ {print $3; exit}' "$work/pgtx.txt")
bad=$(awk '/Non-2xx/ {print $5}' "$work/wrk.txt")
echo
printf 'provisiond creates/s: %s (non-2xx: %s)\n' "$rps" "${bad:-0}"
hz=$(getconf CLK_TCK)
awk -v c="$cpu" -v p="$pgcpu" -v hz="$hz" -v r="$rps" -v s="$secs" 'BEGIN {
  n = r * s; printf "CPU per create: provisiond %.0f us, PostgreSQL %.0f us (2 cores shared with wrk)\n", c / hz / n * 1e6, p / hz / n * 1e6 }'
printf 'pgbench INSERT/s: %s; BEGIN+INSERT+COMMIT/s: %s\n' "$tps" "$tpstx"
awk -v a="$rps" -v b="$tps" -v c="$tpstx" 'BEGIN { printf "ratio provisiond / pgbench INSERT: %.2f; provisiond / pgbench transaction: %.2f\n", a/b, a/c }'
