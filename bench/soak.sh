#!/usr/bin/env bash
# soak.sh: run Sealpost for a long time at a steady publish rate and check
# that its resource use stays flat: resident memory, goroutines and open
# file descriptors. Not part of the test command (it runs for DURATION).
#
# Usage: bench/soak.sh                    (from anywhere inside the repository)
#        DURATION=4m SETTLE=2m bench/soak.sh   (a short check of the script)
#
# One sealpost (embedded store on a fresh data directory, or STORE=postgres
# on a throwaway PostgreSQL), one topic, two raw http subscriptions to
# sealbench's sink: subscription 0 answers at once; subscription 1 is slow
# and flaky (answers every SLOW_EVERY'th message after SLOW_DELAY, and the
# first arrival of every FAIL_EVERY'th message with a 500, which Sealpost
# retries 20 s later). sealbench publishes SIZE-byte messages at RATE msgs/s
# for DURATION, then waits up to DRAIN for the deliveries.
#
# Every INTERVAL the script reads sealpost's /metrics and appends a row to
# the CSV (t_s, rss_bytes, heap_alloc_bytes, goroutines, open_fds, published,
# delivered, failed, retried). At the end it prints, over the samples taken
# at or after SETTLE (the warm-up is left out):
#   - the RSS slope in MiB/min (least squares) and the heap slope,
#   - goroutines and open fds: first (at SETTLE), last and max,
# and PASS/FAIL against the bounds:
#   - RSS slope < MAX_RSS_SLOPE MiB/min,
#   - goroutines flat and fds flat: last <= max(first * 1.1, first + 10),
#   - every delivery of a successful publish arrived (sealbench: lost 0).
# The exit status is 0 when all pass, 1 when one fails, 2 on a setup error.
#
# Environment knobs (defaults in brackets):
#   DURATION [30m]  SETTLE [3m]  INTERVAL [30s]  (Go-style: 90s, 4m, 1h)
#   RATE [200]  SIZE [1024]  CONCURRENCY [16]  DRAIN [120s]
#   SLOW_DELAY [2s]  SLOW_EVERY [20]  FAIL_EVERY [20]
#   STORE [embedded]  (or postgres: a throwaway PostgreSQL, as scaleout.sh)
#   MAX_RSS_SLOPE [1]  (MiB/min)
#   CSV  also copy the samples to this file
#   SEALBENCH_ARGS  extra sealbench flags;  SEALPOST_ARGS  extra sealpost flags
#   SEALPOST_BIN    use this sealpost binary instead of building ./cmd/sealpost
#   KEEP_TMP=1      keep the work directory (binaries, logs, CSV)
#
# Everything listens on and targets 127.0.0.1 only; everything started is
# stopped on exit (also on ^C, which still prints the figures so far).
set -euo pipefail

script=soak.sh
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_args "$@"

DURATION=${DURATION:-30m}
SETTLE=${SETTLE:-3m}
INTERVAL=${INTERVAL:-30s}
RATE=${RATE:-200}
SIZE=${SIZE:-1024}
CONCURRENCY=${CONCURRENCY:-16}
DRAIN=${DRAIN:-120s}
SLOW_DELAY=${SLOW_DELAY:-2s}
SLOW_EVERY=${SLOW_EVERY:-20}
FAIL_EVERY=${FAIL_EVERY:-20}
STORE=${STORE:-embedded}
MAX_RSS_SLOPE=${MAX_RSS_SLOPE:-1}
CSV=${CSV:-}
SEALBENCH_ARGS=${SEALBENCH_ARGS:-}
SEALPOST_ARGS=${SEALPOST_ARGS:-}
SEALPOST_BIN=${SEALPOST_BIN:-}

# seconds DURATION: whole seconds of a Go-style duration (90s, 4m, 1h30m).
seconds() {
	local d=$1 total=0 n u
	[[ "$d" =~ ^([0-9]+[hms])+$ ]] || return 1
	while [ -n "$d" ]; do
		[[ "$d" =~ ^([0-9]+)([hms])(.*)$ ]]
		n=$((10#${BASH_REMATCH[1]})) u=${BASH_REMATCH[2]} d=${BASH_REMATCH[3]}
		case "$u" in h) total=$((total + n * 3600)) ;; m) total=$((total + n * 60)) ;; s) total=$((total + n)) ;; esac
	done
	echo "$total"
}

bench_root

# Preconditions, checked before anything is started.
for v in DURATION SETTLE INTERVAL DRAIN SLOW_DELAY; do
	seconds "${!v}" >/dev/null || die "$v=${!v}: want a duration such as 90s, 4m or 1h30m"
done
duration_s=$(seconds "$DURATION")
settle_s=$(seconds "$SETTLE")
interval_s=$(seconds "$INTERVAL")
[ "$interval_s" -ge 1 ] || die "INTERVAL must be at least 1s"
[ $((duration_s - settle_s)) -ge $((2 * interval_s)) ] ||
	die "DURATION ($DURATION) must exceed SETTLE ($SETTLE) by at least two INTERVALs ($INTERVAL): the slope needs 3 samples"
for v in RATE SIZE CONCURRENCY SLOW_EVERY; do
	[[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "$v=${!v}: want a positive integer"
done
[[ "$FAIL_EVERY" =~ ^[0-9]+$ ]] || die "FAIL_EVERY=$FAIL_EVERY: want an integer >= 0 (0: never fail)"
[[ "$MAX_RSS_SLOPE" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "MAX_RSS_SLOPE=$MAX_RSS_SLOPE: want a number (MiB/min)"
case "$STORE" in embedded | postgres) ;; *) die "STORE=$STORE: want embedded or postgres" ;; esac
if [ -n "$SEALPOST_BIN" ]; then
	[ -x "$SEALPOST_BIN" ] || die "SEALPOST_BIN=$SEALPOST_BIN is not an executable file"
	SEALPOST_BIN=$(cd "$(dirname "$SEALPOST_BIN")" && pwd)/$(basename "$SEALPOST_BIN")
fi
command -v go >/dev/null || die "go is not installed"
command -v curl >/dev/null || die "curl is not installed"
command -v python3 >/dev/null || die "python3 is not installed (needed for free ports and the figures)"
[ "$STORE" = embedded ] || pg_find

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sealbench-soak.XXXXXX")
sealpost_pid=""
bench_pid=""

cleanup_more() {
	pg_stop
}
bench_traps

build_binaries "$tmp"

dsn=""
if [ "$STORE" = postgres ]; then
	pg_start "$tmp"
	pgsql -c "CREATE DATABASE sealpost_soak" >/dev/null || die "CREATE DATABASE failed"
	dsn="postgres://postgres@127.0.0.1:$pg_port/sealpost_soak?sslmode=disable"
fi

port=$(free_port)
url="http://127.0.0.1:$port"
args=(--listen "127.0.0.1:$port" --data-dir "$tmp/data" --node-id soak)
[ -z "$dsn" ] || args+=(--store "$dsn")
log "starting sealpost on $url (store: ${dsn:-embedded})"
# shellcheck disable=SC2086 # SEALPOST_ARGS is a list of flags
"$tmp/sealpost" "${args[@]}" $SEALPOST_ARGS >"$tmp/sealpost.log" 2>&1 &
sealpost_pid=$!
wait_ready sealpost "$sealpost_pid" "$url/health" "$tmp/sealpost.log" || die "sealpost did not start"

# sample T: one CSV row from /metrics (empty fields for missing metrics).
csv=$tmp/soak.csv
echo "t_s,rss_bytes,heap_alloc_bytes,goroutines,open_fds,published,delivered,failed,retried" >"$csv"
sample() {
	local t=$1 m
	m=$(curl -s -m 10 "$url/metrics") || { log "t=${t}s: GET /metrics failed"; return 0; }
	awk -v t="$t" '
		$1 == "process_resident_memory_bytes" { rss = $2 }
		$1 == "go_memstats_heap_alloc_bytes" { heap = $2 }
		$1 == "go_goroutines" { gr = $2 }
		$1 == "process_open_fds" { fds = $2 }
		$1 ~ /^sealpost_requests_total\{/ && $1 ~ /service="sns"/ && $1 ~ /action="Publish"/ && $1 ~ /status="200"/ { pub += $2 }
		$1 == "sealpost_deliveries_total{outcome=\"delivered\"}" { del = $2 }
		$1 == "sealpost_deliveries_total{outcome=\"failed\"}" { fail = $2 }
		$1 == "sealpost_deliveries_total{outcome=\"retried\"}" { retr = $2 }
		END { printf "%s,%.0f,%.0f,%d,%d,%d,%d,%d,%d\n", t, rss, heap, gr, fds, pub, del, fail, retr }
	' <<<"$m" >>"$csv"
	log "t=${t}s: $(tail -n 1 "$csv")"
}

log "sealbench: $RATE msgs/s of $SIZE bytes for $DURATION, 2 raw http subscriptions (1 slow: $SLOW_DELAY every ${SLOW_EVERY}th, 500 to every ${FAIL_EVERY}th first arrival); a sample every $INTERVAL"
# shellcheck disable=SC2086 # SEALBENCH_ARGS is a list of flags
"$tmp/sealbench" -endpoint "$url" -mode e2e -raw -subs 2 -slow-subs 1 -slow-delay "$SLOW_DELAY" \
	-slow-every "$SLOW_EVERY" -fail-every "$FAIL_EVERY" -rate "$RATE" -size "$SIZE" -concurrency "$CONCURRENCY" \
	-duration "$DURATION" -warmup 0 -drain "$DRAIN" -json $SEALBENCH_ARGS \
	>"$tmp/sealbench.out" 2>"$tmp/sealbench.err" &
bench_pid=$!
start=$(date +%s)

# Sample at 0, INTERVAL, 2*INTERVAL, ... up to DURATION after sealbench
# started (its setup takes a second or two, so publishing still runs at the
# last sample), while sealbench runs.
interrupted=0
trap 'interrupted=1' INT
k=0
while [ $((k * interval_s)) -le "$duration_s" ] && [ "$interrupted" = 0 ]; do
	next=$((start + k * interval_s))
	while [ "$(date +%s)" -lt "$next" ] && [ "$interrupted" = 0 ] && kill -0 "$bench_pid" 2>/dev/null; do
		sleep 1
	done
	[ "$interrupted" = 0 ] || break
	kill -0 "$bench_pid" 2>/dev/null || { log "sealbench exited before the end of the run"; break; }
	kill -0 "$sealpost_pid" 2>/dev/null || { log "sealpost exited during the run; last lines of its log:"; tail -n 20 "$tmp/sealpost.log" >&2; break; }
	sample $((k * interval_s))
	k=$((k + 1))
done
trap 'exit 130' INT
if [ "$interrupted" = 1 ]; then
	log "interrupted: stopping sealbench (the figures so far follow)"
	kill -INT "$bench_pid" 2>/dev/null || true
fi
log "waiting for sealbench (drain up to $DRAIN)"
rc=0
wait "$bench_pid" || rc=$?
bench_pid=""
[ "$rc" = 0 ] || { log "sealbench exited with status $rc; last lines of its log:"; tail -n 5 "$tmp/sealbench.err" >&2 || true; }
[ -z "$CSV" ] || cp "$csv" "$CSV"
# Sealpost's own delivery counters once the drain is over (not a sample).
final=$(curl -s -m 10 "$url/metrics" | awk '$1 ~ /^sealpost_deliveries_total\{/ { sub(/^sealpost_deliveries_total\{outcome="/, "", $1); sub(/"\}$/, "", $1); printf "%s %s  ", $1, $2 }' || true)

warns=$(grep -c 'level=WARN' "$tmp/sealpost.log" || true)
errs=$(grep -c 'level=ERROR' "$tmp/sealpost.log" || true)
if [ "$warns" != 0 ] || [ "$errs" != 0 ]; then
	log "sealpost logged $warns warning(s) and $errs error(s); first few:"
	grep -E 'level=(WARN|ERROR)' "$tmp/sealpost.log" | head -n 5 >&2 || true
fi

echo
echo "soak: store $STORE, $RATE msgs/s of $SIZE bytes for $DURATION, subscriptions: 1 normal, 1 slow ($SLOW_DELAY every ${SLOW_EVERY}th, 500 to every ${FAIL_EVERY}th first arrival), $(nproc) CPUs, sealpost ${SEALPOST_BIN:-built with CGO_ENABLED=$CGO_ENABLED}"
grep -v '^{' "$tmp/sealbench.out" | sed 's/^/  /' || true
echo "  sealpost deliveries_total after the drain: ${final:-(no answer)}"
python3 - "$csv" "$settle_s" "$MAX_RSS_SLOPE" "$tmp/sealbench.out" "$warns" "$errs" <<'EOF'
import csv, json, sys

path, settle, max_slope, bench_out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
warns, errs = int(sys.argv[5]), int(sys.argv[6])
rows = [r for r in csv.DictReader(open(path)) if r["rss_bytes"] not in ("", "0")]
print(f"samples: {len(rows)} in {path.rsplit('/', 1)[-1]}, {sum(1 for r in rows if int(r['t_s']) >= settle)} at or after the warm-up of {settle}s")
print()
print(f"{'t_s':>6} {'rss MiB':>9} {'heap MiB':>9} {'goroutines':>10} {'fds':>5} {'published':>10} {'delivered':>10} {'failed':>7} {'retried':>8}")
for r in rows:
    print(f"{r['t_s']:>6} {int(r['rss_bytes'])/2**20:>9.1f} {int(r['heap_alloc_bytes'])/2**20:>9.1f} {r['goroutines']:>10} "
          f"{r['open_fds']:>5} {r['published']:>10} {r['delivered']:>10} {r['failed']:>7} {r['retried']:>8}")
print()

def slope(pts):
    # least squares y = a + b*x; x in minutes, y in MiB
    n = len(pts)
    mx = sum(x for x, _ in pts) / n
    my = sum(y for _, y in pts) / n
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / sxx if sxx else float("nan")

after = [r for r in rows if int(r["t_s"]) >= settle]
checks = []
if len(after) < 3:
    print(f"FAIL: only {len(after)} sample(s) after the warm-up; need 3")
    sys.exit(1)
rss = slope([(int(r["t_s"]) / 60, int(r["rss_bytes"]) / 2**20) for r in after])
heap = slope([(int(r["t_s"]) / 60, int(r["heap_alloc_bytes"]) / 2**20) for r in after])
checks.append((f"RSS slope {rss:+.3f} MiB/min (heap {heap:+.3f} MiB/min) over t={after[0]['t_s']}..{after[-1]['t_s']}s, "
               f"RSS {int(after[0]['rss_bytes'])/2**20:.1f} -> {int(after[-1]['rss_bytes'])/2**20:.1f} MiB", rss < max_slope,
               f"< {max_slope:g} MiB/min"))
for key, name in (("goroutines", "goroutines"), ("open_fds", "open fds")):
    v = [int(r[key]) for r in after]
    first, last = v[0], v[-1]
    bound = max(first * 1.1, first + 10)
    checks.append((f"{name}: first {first}, last {last}, max {max(v)} (all samples: max {max(int(r[key]) for r in rows)})",
                   last <= bound, f"flat: last <= max(first*1.1, first+10) = {bound:g}"))
try:
    rep = [json.loads(l) for l in open(bench_out) if l.startswith("{")][-1]
    lost, dups, pub = rep.get("lost"), rep.get("duplicates"), rep.get("published")
    checks.append((f"deliveries: {rep.get('delivered')} of {rep.get('expected_deliveries')} for {pub} publishes "
                   f"({rep.get('publish_per_sec')} msgs/s), {lost} lost, {dups} duplicates, "
                   f"{rep.get('failed_answers', 0)} answered 500, {rep.get('slow_answers', 0)} answered late",
                   lost == 0 and (pub or 0) > 0, "none lost"))
except (OSError, ValueError, IndexError):
    checks.append(("deliveries: no sealbench report", False, "none lost"))
ok = True
for text, passed, bound in checks:
    ok = ok and passed
    print(f"{'PASS' if passed else 'FAIL'}  {text}  [{bound}]")
print(f"      sealpost log: {warns} warning(s), {errs} error(s)")
print("soak: PASS" if ok else "soak: FAIL")
sys.exit(0 if ok else 1)
EOF
