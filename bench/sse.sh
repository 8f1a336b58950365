#!/usr/bin/env bash
# sse.sh: what server-side encryption costs. The same sealbench runs against
# one Sealpost, alternating a topic without SSE and a topic with
# KmsMasterKeyId, both over HTTPS (the server's dev CA) with keep-alive
# connections, and prints both side by side with the difference.
#
# Usage: bench/sse.sh            (from anywhere inside the repository)
#
# Scenarios (each run on a fresh topic with SUBS raw http subscriptions to
# sealbench's sink, SIZE-byte messages):
#   throughput  closed loop, CONCURRENCY workers for DURATION: publish msgs/s
#               and publish latency, delivered msgs/s
#   latency     open loop at RATE msgs/s in total for DURATION: end-to-end
#               latency (just before Publish -> the sink receives the body)
#               and publish latency below saturation
# Each scenario runs ROUNDS times per topic kind, interleaved (plain, sse,
# plain, sse, ...) so that load from other processes falls on both alike;
# the table shows the median of the rounds, the best round of each kind
# (highest throughput, lowest latency: the one least disturbed by other
# load) and every round.
#
# On the SSE topic every Publish seals the body (AES-256-GCM under a data key
# from the built-in KMS, reused per publisher for 5 minutes) before it is
# stored, and every delivery opens it. The issue's target: SSE costs at most
# 15% of publish throughput and at most 2 ms of end-to-end p99 latency.
#
# Environment knobs (defaults in brackets):
#   DURATION [10s] per run  WARMUP [2s]  DRAIN [30s]  SIZE [1024]
#   CONCURRENCY [16]  RATE [200] (latency scenario)  SUBS [1]  ROUNDS [2]
#   RAW [1] (0: signed JSON envelopes; every delivery then costs an RSA
#           signature, which hides the SSE cost)
#   KMS_KEY [alias/aws/sns]  the topic's KmsMasterKeyId (alias/aws/sns is
#           created by the first Publish; any key id, ARN or alias of a key
#           that exists works)
#   SCENARIOS ["throughput latency"]
#   SEALPOST_ARGS   extra flags for sealpost (e.g. "--store postgres://...")
#   SEALPOST_BIN    use this sealpost binary instead of building ./cmd/sealpost
#   KEEP_TMP=1      keep the work directory (binaries, logs, raw outputs)
#
# Everything listens on and targets 127.0.0.1 only. Sealpost is stopped on
# exit. The first and last lines on stderr record `uptime`: the figures mean
# little on a machine busy with other work.
set -euo pipefail

script=sse.sh
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_args "$@"

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
DRAIN=${DRAIN:-30s}
SIZE=${SIZE:-1024}
CONCURRENCY=${CONCURRENCY:-16}
RATE=${RATE:-200}
SUBS=${SUBS:-1}
ROUNDS=${ROUNDS:-2}
RAW=${RAW:-1}
KMS_KEY=${KMS_KEY:-alias/aws/sns}
SCENARIOS=${SCENARIOS:-"throughput latency"}
SEALPOST_ARGS=${SEALPOST_ARGS:-}
SEALPOST_BIN=${SEALPOST_BIN:-}

bench_root

if [ -n "$SEALPOST_BIN" ]; then
	[ -x "$SEALPOST_BIN" ] || die "SEALPOST_BIN=$SEALPOST_BIN is not an executable file"
	SEALPOST_BIN=$(cd "$(dirname "$SEALPOST_BIN")" && pwd)/$(basename "$SEALPOST_BIN")
fi
command -v go >/dev/null || die "go is not installed"
command -v curl >/dev/null || die "curl is not installed"
command -v python3 >/dev/null || die "python3 is not installed (needed for free ports and the table)"
[ -n "$KMS_KEY" ] || die "KMS_KEY is empty: the SSE topic needs a key"
case "$ROUNDS" in '' | *[!0-9]* | 0) die "ROUNDS must be a positive integer" ;; esac
for sc in $SCENARIOS; do
	case "$sc" in throughput | latency) ;; *) die "unknown scenario $sc in SCENARIOS (want throughput, latency)" ;; esac
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ssebench.XXXXXX")
sealpost_pid=""
bench_pid=""
failures=0

bench_traps

build_binaries "$tmp"

port=$(free_port)
url="https://127.0.0.1:$port"
log "starting sealpost on 127.0.0.1:$port"
mkdir -p "$tmp/data"
# shellcheck disable=SC2086 # SEALPOST_ARGS is a list of flags
"$tmp/sealpost" --listen "127.0.0.1:$port" --data-dir "$tmp/data" $SEALPOST_ARGS >"$tmp/sealpost.log" 2>&1 &
sealpost_pid=$!
wait_ready sealpost "$sealpost_pid" "http://127.0.0.1:$port/health" "$tmp/sealpost.log" || die "sealpost did not start"
ca="$tmp/data/tls/ca.pem"
[ -f "$ca" ] || die "no dev CA at $ca (sealpost started with its own TLS certificate? this script needs the generated one)"

raw_flag=()
[ "$RAW" = 1 ] && raw_flag=(-raw)
common=(-endpoint "$url" -ca-bundle "$ca" -mode e2e "${raw_flag[@]}" -subs "$SUBS" -size "$SIZE"
	-duration "$DURATION" -warmup "$WARMUP" -drain "$DRAIN" -json)

# run SCENARIO KIND ROUND: one sealbench run into $tmp/SCENARIO.KIND.ROUND.json.
run() {
	local sc=$1 kind=$2 round=$3 out="$tmp/$1.$2.$3" rc=0
	local args=("${common[@]}")
	case "$sc" in
	throughput) args+=(-concurrency "$CONCURRENCY") ;;
	latency) args+=(-concurrency "$CONCURRENCY" -rate "$RATE") ;;
	esac
	[ "$kind" = sse ] && args+=(-kms-key "$KMS_KEY")
	kill -0 "$sealpost_pid" 2>/dev/null || die "sealpost is no longer running (see $tmp/sealpost.log; KEEP_TMP=1 keeps it)"
	log "$sc, $kind topic, round $round"
	"$tmp/sealbench" "${args[@]}" >"$out.out" 2>"$out.err" &
	bench_pid=$!
	wait "$bench_pid" || rc=$?
	bench_pid=""
	[ "$rc" != 130 ] || exit 130
	grep -v '^{' "$out.out" | sed "s/^/  [$sc $kind $round] /" >&2 || true
	if [ "$rc" != 0 ]; then
		failures=$((failures + 1))
		log "sealbench ($sc $kind $round) exited with status $rc:"
		tail -n 5 "$out.err" >&2 || true
	fi
	grep '^{' "$out.out" | tail -n 1 >"$out.json" || true
}

# sse_counter NAME: the sum of a sealpost_sse_messages_total direction.
sse_counter() {
	curl -s -m 5 "http://127.0.0.1:$port/metrics" |
		awk -v d="direction=\"$1\"" '/^sealpost_sse_messages_total/ && index($0, d) { s += $NF } END { print s + 0 }'
}

log "uptime before: $(uptime)"
for sc in $SCENARIOS; do
	for round in $(seq "$ROUNDS"); do
		run "$sc" plain "$round"
		run "$sc" sse "$round"
	done
done
sealed=$(sse_counter sealed)
opened=$(sse_counter opened)
log "uptime after: $(uptime)"

echo
echo "sse.sh: topic without SSE vs topic with KmsMasterKeyId=$KMS_KEY, over HTTPS (dev CA, keep-alive), ${SIZE}-byte messages,"
echo "$SUBS $([ "$RAW" = 1 ] && echo raw || echo signed) http subscription(s), $DURATION per run, median of $ROUNDS round(s) each${SEALPOST_ARGS:+, sealpost flags: $SEALPOST_ARGS}"
echo "throughput: closed loop, concurrency $CONCURRENCY; latency: open loop at $RATE msgs/s"
echo "sealpost_sse_messages_total after the runs: $sealed sealed, $opened opened"
python3 - "$tmp" "$ROUNDS" $SCENARIOS <<'EOF'
import json, os, statistics, sys

tmp, rounds, scenarios = sys.argv[1], int(sys.argv[2]), sys.argv[3:]

def load(sc, kind, r):
    try:
        with open(os.path.join(tmp, f"{sc}.{kind}.{r}.json")) as f:
            line = f.read().strip()
        return json.loads(line) if line else None
    except (OSError, ValueError):
        return None

rows_by = {
    "throughput": [("publish_per_sec", "publish msgs/s", "higher"), ("pub_lat_p50_ms", "publish p50 ms", "lower"),
                   ("pub_lat_p99_ms", "publish p99 ms", "lower"), ("delivered_msgs_per_sec", "delivered msgs/s per sub", "higher"),
                   ("e2e_lat_p50_ms", "end-to-end p50 ms", "lower"), ("e2e_lat_p99_ms", "end-to-end p99 ms", "lower"),
                   ("errors", "publish errors (all rounds)", "lower"), ("lost", "lost (all rounds)", "lower")],
    "latency": [("publish_per_sec", "publish msgs/s", "higher"), ("pub_lat_p50_ms", "publish p50 ms", "lower"),
                ("pub_lat_p99_ms", "publish p99 ms", "lower"), ("e2e_lat_p50_ms", "end-to-end p50 ms", "lower"),
                ("e2e_lat_p99_ms", "end-to-end p99 ms", "lower"), ("e2e_lat_max_ms", "end-to-end max ms", "lower"),
                ("errors", "publish errors (all rounds)", "lower"), ("lost", "lost (all rounds)", "lower")],
}

def fmt(v):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.1f}" if abs(v) >= 100 else f"{v:.2f}"
    return str(v)

def vals(sc, kind, key):
    return [r.get(key) for r in (load(sc, kind, i) for i in range(1, rounds + 1)) if r and isinstance(r.get(key), (int, float))]

def diff(key, p, s):
    if not isinstance(p, (int, float)) or not isinstance(s, (int, float)):
        return ""
    if key.endswith("_ms"):
        return f"{s - p:+.2f} ms"
    return f"{(s - p) / p * 100:+.1f}%" if p else ""

hdr = ("scenario", "metric", "no SSE", "SSE", "median: SSE vs no", "best: no SSE", "SSE", "best: SSE vs no", "rounds: no SSE | SSE")
rows, verdicts = [], []
for sc in scenarios:
    for key, label, better in rows_by[sc]:
        pv, sv = vals(sc, "plain", key), vals(sc, "sse", key)
        if key in ("errors", "lost"):  # totals over the rounds
            p, s = (sum(pv) if pv else None), (sum(sv) if sv else None)
        else:
            p = statistics.median(pv) if pv else None
            s = statistics.median(sv) if sv else None
        pick = max if better == "higher" else min
        pb = pick(pv) if pv else None
        sb = pick(sv) if sv else None
        rows.append((sc, label, fmt(p), fmt(s), diff(key, p, s), fmt(pb), fmt(sb), diff(key, pb, sb),
                     " ".join(fmt(v) for v in pv) + " | " + " ".join(fmt(v) for v in sv)))
        if sc == "throughput" and key == "publish_per_sec" and p and s is not None and pb and sb is not None:
            cost, costb = (p - s) / p * 100, (pb - sb) / pb * 100
            verdicts.append(f"publish throughput: SSE costs {cost:.1f}% (median of rounds), {costb:.1f}% (best rounds); "
                            f"target at most 15%: {'within' if max(cost, costb) <= 15 else 'OVER'} target")
        if sc == "latency" and key == "e2e_lat_p99_ms" and None not in (p, s, pb, sb):
            r1 = load(sc, "plain", 1) or {}
            verdicts.append(f"end-to-end p99 at {r1.get('rate_target', '?')} msgs/s: SSE adds {s - p:+.2f} ms (median of rounds), "
                            f"{sb - pb:+.2f} ms (best rounds); target at most 2 ms: {'within' if max(s - p, sb - pb) <= 2 else 'OVER'} target")
verdicts.append("(best = the highest throughput / lowest latency of the rounds: the round least disturbed by other load)")

widths = [max(len(str(r[i])) for r in rows + [hdr]) for i in range(len(hdr))]
def line(r):
    return "  ".join(str(c).ljust(w) if i in (0, 1, 8) else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
print(line(hdr))
print("  ".join("-" * w for w in widths))
prev = None
for r in rows:
    if prev is not None and r[0] != prev:
        print()
    print(line(r))
    prev = r[0]
print()
for v in verdicts:
    print(v)
EOF
if [ "$sealed" = 0 ]; then
	failures=$((failures + 1))
	log "no body was sealed: the SSE runs did not encrypt (see $tmp/sealpost.log)"
fi
if [ "$failures" != 0 ]; then
	log "$failures step(s) failed (see above)"
	exit 1
fi
