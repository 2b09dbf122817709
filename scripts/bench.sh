#!/usr/bin/env bash
# The benchmark of issue 3: builds release, starts the test services and a
# fresh `tellify` per scenario (own database, own Redis prefix, known admin
# token), drives it with `tellify-load`, and prints a Markdown table of the
# figures beside the targets; the table also goes to target/bench/results.md,
# each step's JSON to target/bench/*.json, the server logs to
# target/bench/tellify-*.log.
#
#   scripts/bench.sh                 # the whole run, about 5 minutes
#   BENCH_SECONDS=5 scripts/bench.sh # shorter ingest and latency runs
#   BENCH_PERF="ingest-1 dispatch-10k" scripts/bench.sh
#                                    # also `perf record -g` the server during
#                                    # those steps: target/bench/perf-STEP.data
#
# Scenarios, in order:
#   1. ingest: the bare axum + XADD baseline, then Tellify, one event per
#      request; then Tellify with batches of 100;
#   2. dispatch with 100 instances (1 user x 100): 100,000 events in batches;
#   3. on a fresh database, 10,000 instances (100 users x 100): end-to-end
#      latency at 1,000 events/s, then dispatch 100,000 events, the time the
#      alert writer takes to empty the outboxes after that (at most 5
#      minutes), RSS.
# Every scenario gets its own server so the events one posts do not become
# the next one's dispatch backlog. CPU seconds used by each process during
# each step are read from /proc and printed too: that is where the time goes.
#
# What the script starts it stops (trap): the tellify processes, and the
# services if they were not running before. It deletes its Redis keys; the
# test profile's MongoDB keeps its data in memory only, so its bench
# databases go when the services stop.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT="$ROOT/target/bench"
WORKLOAD="${TELLIFY_WORKLOAD:-$ROOT/../shared/workload/workload.py}"
SECONDS_PER_RUN="${BENCH_SECONDS:-10}"
EVENTS=100000
export TELLIFY_PROFILE=test
mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/cpu-*.txt

log() { printf 'bench: %s\n' "$*" >&2; }

log "building release binaries"
cargo build --release -q -p tellify-server --bin tellify --bin tellify-load
LOAD="$ROOT/target/release/tellify-load"

services_were_running=$(scripts/services.sh status | grep -c running || true)
eval "$(scripts/services.sh start)"
REDIS_URL=$TELLIFY_REDIS_URL
MONGO_BASE=${TELLIFY_MONGODB_URI%/*}
RUN="$ROOT/.run/test"

STAMP=$(date +%Y%m%d%H%M%S)
ADMIN_TOKEN="bench-admin-$STAMP-$RANDOM$RANDOM"
TELLIFY_PID=""
PREFIXES=()

redis_cli() { redis-cli -u "$REDIS_URL" "$@"; }

delete_prefix() { # prefix: delete every key under it
  redis_cli --scan --pattern "$1*" | xargs -r -n 500 redis-cli -u "$REDIS_URL" UNLINK >/dev/null
}

stop_tellify() {
  if [ -n "$TELLIFY_PID" ] && kill -0 "$TELLIFY_PID" 2>/dev/null; then
    kill -TERM "$TELLIFY_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$TELLIFY_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$TELLIFY_PID" 2>/dev/null || true
  fi
  TELLIFY_PID=""
}

cleanup() {
  stop_tellify
  for p in "${PREFIXES[@]}"; do delete_prefix "$p" || true; done
  if [ "$services_were_running" = 0 ]; then scripts/services.sh stop || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_tellify NAME: a fresh database and prefix; sets URL, PREFIX, TELLIFY_PID.
# The per-token ingest limit is off: the benchmark measures the pipeline.
start_tellify() {
  local name=$1 port
  port=$(free_port)
  PREFIX="bench$STAMP$name:"
  PREFIXES+=("$PREFIX")
  URL="http://127.0.0.1:$port"
  TELLIFY_ADMIN_TOKEN="$ADMIN_TOKEN" TELLIFY_ADMIN_PASSWORD="bench-admin-password" \
    "$ROOT/target/release/tellify" --listen "127.0.0.1:$port" \
    --mongodb-uri "$MONGO_BASE/bench_${STAMP}_$name" --redis-url "$REDIS_URL" \
    --redis-prefix "$PREFIX" --partitions 16 --ingest-rate 0 > "$OUT/tellify-$name.log" 2>&1 &
  TELLIFY_PID=$!
  for _ in $(seq 1 200); do
    if python3 -c "import urllib.request; urllib.request.urlopen('$URL/healthz', timeout=1)" 2>/dev/null; then
      log "tellify ($name) up on $URL, pid $TELLIFY_PID, prefix $PREFIX"
      return 0
    fi
    kill -0 "$TELLIFY_PID" 2>/dev/null || break
    sleep 0.1
  done
  log "tellify ($name) did not start; see $OUT/tellify-$name.log"; tail -n 20 "$OUT/tellify-$name.log" >&2
  return 1
}

cpu_ticks() { # pid -> utime+stime in clock ticks (0 if gone)
  awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0
}

# step NAME CMD...: run a tellify-load command with --json into NAME.json,
# and the CPU each process used meanwhile into cpu-NAME.txt. A failed step
# is reported and the run goes on.
step() {
  local name=$1; shift
  local pids=("tellify:${TELLIFY_PID:-0}" "redis:$(cat "$RUN/redis.pid")" "mongodb:$(cat "$RUN/mongo.pid")")
  local before=() t0 t1 i=0 rc=0
  for p in "${pids[@]}"; do before+=("$(cpu_ticks "${p#*:}")"); done
  log "step $name: $*"
  local perf_pid=""
  if [[ " ${BENCH_PERF:-} " == *" $name "* ]] && [ -n "${TELLIFY_PID:-}" ] && command -v perf >/dev/null; then
    perf record -q -g -p "$TELLIFY_PID" -o "$OUT/perf-$name.data" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  t0=$(date +%s.%N)
  "$LOAD" --json "$@" > "$OUT/$name.json.tmp" || rc=$?
  t1=$(date +%s.%N)
  if [ -n "$perf_pid" ]; then
    kill -INT "$perf_pid" 2>/dev/null || true; wait "$perf_pid" 2>/dev/null || true
    log "  profile: perf report -i $OUT/perf-$name.data --no-children"
  fi
  if [ "$rc" = 0 ]; then mv "$OUT/$name.json.tmp" "$OUT/$name.json"; else
    log "step $name failed (exit $rc)"; rm -f "$OUT/$name.json.tmp"; fi
  local tck; tck=$(getconf CLK_TCK)
  {
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "wall %.1f s;", b - a }'
    for p in "${pids[@]}"; do
      local after; after=$(cpu_ticks "${p#*:}")
      awk -v n="${p%%:*}" -v a="${before[$i]}" -v b="$after" -v t="$tck" 'BEGIN { printf " %s %.1f s", n, (b - a) / t }'
      i=$((i + 1))
    done
    echo
  } > "$OUT/cpu-$name.txt"
  log "  cpu: $(cat "$OUT/cpu-$name.txt")"
}

log "generating the workload into $OUT"
gen() { # file args...
  local f=$1; shift
  if [ ! -s "$OUT/$f" ]; then python3 "$WORKLOAD" "$@" > "$OUT/$f.tmp" && mv "$OUT/$f.tmp" "$OUT/$f"; fi
}
gen events.jsonl events --count "$EVENTS"
gen handlers-100.jsonl handlers --users 1 --per-user 100
gen handlers-10k.jsonl handlers --users 100 --per-user 100

D="${SECONDS_PER_RUN}s"

# 1. Ingest.
start_tellify ingest
step baseline baseline --redis-url "$REDIS_URL" --events "$OUT/events.jsonl" --batch 1 --concurrency 64 --duration "$D"
step ingest-1 ingest --url "$URL" --token "$ADMIN_TOKEN" --events "$OUT/events.jsonl" --batch 1 --concurrency 64 --duration "$D"
step ingest-100 ingest --url "$URL" --token "$ADMIN_TOKEN" --events "$OUT/events.jsonl" --batch 100 --concurrency 16 --duration "$D"
stop_tellify; delete_prefix "$PREFIX"

# 2. Dispatch with 100 instances.
start_tellify d100
step setup-100 setup --url "$URL" --admin-token "$ADMIN_TOKEN" --handlers "$OUT/handlers-100.jsonl"
step dispatch-100 dispatch --url "$URL" --token "$ADMIN_TOKEN" --events "$OUT/events.jsonl" --count "$EVENTS" \
  --redis-url "$REDIS_URL" --prefix "$PREFIX" --partitions 16
stop_tellify; delete_prefix "$PREFIX"

# 3. Dispatch with 10,000 instances, latency, memory.
start_tellify d10k
step setup-10k setup --url "$URL" --admin-token "$ADMIN_TOKEN" --handlers "$OUT/handlers-10k.jsonl" \
  --tokens-out "$OUT/tokens-10k.txt"
# Latency first, on the idle pipeline: at a steady 1,000 events/s, not
# behind the alert writer's backlog from the 100,000-event dispatch.
USER_TOKEN=$(awk '$1 == "u000" {print $2}' "$OUT/tokens-10k.txt" 2>/dev/null || true)
if [ -n "$USER_TOKEN" ]; then
  step latency latency --url "$URL" --token "$USER_TOKEN" --user u000 --redis-url "$REDIS_URL" \
    --prefix "$PREFIX" --rate 1000 --duration "$D"
else
  log "no token for u000: latency skipped"
fi
step dispatch-10k dispatch --url "$URL" --token "$ADMIN_TOKEN" --events "$OUT/events.jsonl" --count "$EVENTS" \
  --redis-url "$REDIS_URL" --prefix "$PREFIX" --partitions 16
step rss-after-dispatch rss --pid "$TELLIFY_PID"
# The alert writer works through the outboxes after the dispatcher caught
# up: how long it takes is the writer's throughput.
drain_outboxes() {
  local t0 left
  t0=$(date +%s.%N)
  for _ in $(seq 1 600); do
    left=0
    for p in $(seq 0 15); do left=$((left + $(redis_cli XLEN "${PREFIX}{p$p}:alerts"))); done
    [ "$left" = 0 ] && break
    sleep 0.5
  done
  awk -v a="$t0" -v b="$(date +%s.%N)" -v l="$left" \
    'BEGIN { printf "{\"drain_seconds\": %.1f, \"left\": %d}\n", b - a, l }' > "$OUT/drain.json"
  log "  outboxes drained: $(cat "$OUT/drain.json")"
}
drain_outboxes
step rss rss --pid "$TELLIFY_PID"
stop_tellify

python3 - "$OUT" "$SECONDS_PER_RUN" <<'PY' | tee "$OUT/results.md"
import json, os, subprocess, sys
out, secs = sys.argv[1], sys.argv[2]
def load(name):
    try:
        with open(os.path.join(out, name + ".json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
def cpu(name):
    try:
        with open(os.path.join(out, "cpu-" + name + ".txt")) as f:
            return f.read().strip()
    except OSError:
        return ""
def num(v, unit=""):
    return f"{v:,.0f} {unit}".strip() if v >= 100 else f"{v:,.1f} {unit}".strip()
rows = []
def row(figure, measured, target="", verdict=""):
    rows.append((figure, measured, target, verdict))
def check(ok, miss):
    return "met" if ok else f"**missed**: {miss}"
NA = "not measured (step failed)"

b, i1, i100 = load("baseline"), load("ingest-1"), load("ingest-100")
if b:
    row("Baseline: bare axum, parse + one XADD, 1 event/request",
        f"{num(b['requests_per_s'], 'req/s')} (p50 {b['latency_p50_ms']} ms, p99 {b['latency_p99_ms']} ms)")
if i1:
    m = f"{num(i1['requests_per_s'], 'req/s')} (p50 {i1['latency_p50_ms']} ms, p99 {i1['latency_p99_ms']} ms, non-2xx {i1['non_2xx']})"
    if b and b["requests_per_s"] > 0:
        ratio = i1["requests_per_s"] / b["requests_per_s"]
        row("Ingest, 1 event/request", m + f"; {ratio:.0%} of baseline", ">= 70% of baseline",
            check(ratio >= 0.7, f"{ratio:.0%} is {0.7 - ratio:.0%} short"))
    else:
        row("Ingest, 1 event/request", m, ">= 70% of baseline", "no baseline")
else:
    row("Ingest, 1 event/request", NA, ">= 70% of baseline")
if i100:
    v = i100["events_per_s"]
    row("Ingest, batches of 100", f"{num(v, 'events/s')} (p99 {i100['latency_p99_ms']} ms, non-2xx {i100['non_2xx']})",
        ">= 150,000 events/s", check(v >= 150000, f"{v / 150000:.0%} of target"))
else:
    row("Ingest, batches of 100", NA, ">= 150,000 events/s")

s100, s10k = load("setup-100"), load("setup-10k")
for s, n in ((s100, "100"), (s10k, "10,000")):
    if s:
        row(f"Setup, {n} instances", f"{s['handlers']} created, {s['handler_failures']} failed, "
            f"{num(s['handlers_per_s'], 'handlers/s')}; users+tokens {s['users_seconds']} s")
d100, d10k = load("dispatch-100"), load("dispatch-10k")
def disp(d):
    if not d:
        return NA, None
    lag = f"max lag {d['max_lag_events']:,} events / {d['max_lag_ms']:,} ms"
    ing = f"ingest {num(d['ingest_events_per_s'], 'events/s')}"
    if d.get("caught_up"):
        return f"{num(d['dispatch_events_per_s'], 'events/s')} ({ing}; {lag})", d["dispatch_events_per_s"]
    return (f"did not catch up: {d.get('behind_at_timeout'):,} events behind at the timeout, "
            f"{num(d.get('dispatch_events_per_s_at_timeout', 0), 'events/s')} until then ({ing}; {lag})"), None
m100, v100 = disp(d100)
row("Dispatch, 100 instances, 100,000 events", m100)
m10k, v10k = disp(d10k)
if v10k is not None:
    verdict = check(v10k >= 50000, f"{v10k / 50000:.0%} of target")
    if v100:
        slower = 1 - v10k / v100
        m10k += f"; {slower:.0%} slower than with 100"
        verdict += "; " + check(slower <= 0.2, f"{slower:.0%} slower")
    row("Dispatch, 10,000 instances, 100,000 events", m10k,
        ">= 50,000 events/s, <= 20% slower than 100, lag bounded", verdict)
else:
    row("Dispatch, 10,000 instances, 100,000 events", m10k, ">= 50,000 events/s", "missed")
dr = load("drain")
if dr:
    row("Alert writer: outboxes emptied after the 10,000-instance dispatch",
        f"{dr['drain_seconds']} s after the dispatcher caught up ({dr['left']:,} entries left)")
lat = load("latency")
if lat:
    p99 = lat["latency_p99_ms"]
    row("End to end, POST to live alert, 1,000 events/s",
        f"p50 {lat['latency_p50_ms']} ms, p90 {lat['latency_p90_ms']} ms, p99 {p99} ms, max {lat['latency_max_ms']} ms; "
        f"{lat['received']:,} paired, {lat['missing']:,} never arrived, {lat['send_failures']} not accepted",
        "p99 <= 50 ms",
        check(p99 <= 50 and lat["received"] > 0 and lat["missing"] == 0,
              f"p99 {p99} ms, {lat['missing']} missing" if lat["received"] else "no alert arrived"))
else:
    row("End to end, POST to live alert, 1,000 events/s", NA, "p99 <= 50 ms")
for name, label in (("rss-after-dispatch", "after 10,000-instance dispatch"), ("rss", "at the end (outboxes emptied)")):
    r = load(name)
    if r:
        row(f"Server RSS, {label}", f"{r['rss_mb']} MB (peak {r['peak_rss_mb']} MB)", "<= 200 MB",
            check(r["peak_rss_mb"] <= 200, f"peak {r['peak_rss_mb']} MB"))

def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"
print(f"## Benchmark ({sh('date -u +%Y-%m-%dT%H:%MZ')}, commit {sh('git rev-parse --short HEAD')}"
      f"{' + local changes' if sh('git status --porcelain --untracked-files=no') else ''})\n")
cpu_model = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2")
print(f"Machine: {sh('nproc')} cores, {cpu_model}; "
      f"server, Redis, SecantusDB and the load tool on the same cores. "
      f"Command: `scripts/bench.sh` (runs of {secs} s).")
print()
print("| Figure | Measured | Target | Verdict |")
print("|---|---|---|---|")
for r in rows:
    print("| " + " | ".join(x.replace("|", "/") for x in r) + " |")
print("\nCPU seconds used by each process during each step (from /proc/PID/stat; the load tool's own figure")
print("is from its threads; in `baseline` the bare server runs inside the load tool):\n")
print("| Step | CPU |")
print("|---|---|")
for name in ("baseline", "ingest-1", "ingest-100", "setup-100", "dispatch-100", "setup-10k", "dispatch-10k", "latency"):
    c = cpu(name)
    j = load(name) or {}
    if "baseline_cpu_s" in j:
        c += f" baseline server {j['baseline_cpu_s']} s"
    if "tool_cpu_s" in j:
        c += f" load tool {j['tool_cpu_s']} s"
    if c:
        print(f"| {name} | {c} |")
PY
log "table written to $OUT/results.md"
