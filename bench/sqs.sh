#!/usr/bin/env bash
# sqs.sh: SQS throughput and latency, Sealpost against moto_server in the
# same run, measured by cmd/sqsbench (aws-sdk-go-v2, no SDK retries):
#   send     SendMessage msgs/s (CONCURRENCY closed-loop workers, 1 KiB bodies)
#   recv     ReceiveMessage (10) + DeleteMessageBatch msgs/s over a queue
#            filled beforehand (PREFILL_MOTO / PREFILL_SEALPOST messages)
#   fanout   SNS -> SQS fan-out with RawMessageDelivery: messages landed in
#            the queue per second (published / time to the last landing);
#            moto delivers into its own SQS as well
#   latency  Publish (raw sqs subscription) to ReceiveMessage with long
#            polling (WaitTimeSeconds 20, CONSUMERS consumers) at RATE msgs/s:
#            p50/p90/p99/max
# Sealpost is measured twice: its default queue (SSE-SQS: every body sealed
# at rest) and a plain queue (SqsManagedSseEnabled=false).
#
# Usage: bench/sqs.sh            (from anywhere inside the repository)
#
# Sealpost runs as shipped (embedded store, generated dev root key) over
# HTTPS with its generated CA; moto_server over plain HTTP (it serves no TLS
# itself), which favours moto. One server is under load at a time.
#
# Printed: one table (moto, Sealpost SSE-SQS, Sealpost plain, Sealpost/moto
# for both), and `uptime` before and after (other load on the machine lowers
# every figure: run it on an otherwise idle machine).
#
# Environment knobs (defaults in brackets):
#   DURATION [10s] per scenario   WARMUP [2s]   CONCURRENCY [16]   SIZE [1024]
#   PREFILL_MOTO [300]  PREFILL_SEALPOST [50000] messages before recv
#                   (moto's ReceiveMessage slows down with the backlog: about
#                   3 s per call at 1000 messages, so it gets a small one; if
#                   a queue runs dry the rate is over the time until then)
#   RATE [50] latency msgs/s   CONSUMERS [4]
#   SCENARIOS ["send,recv,fanout,latency"]
#   VIA [sns] latency through Publish to a raw sqs subscription (sns) or SendMessage (sqs)
#   TARGETS ["moto sealpost sealpost-plain"]
#   SEALPOST_ARGS   extra flags for sealpost (e.g. "--store postgres://...")
#   SEALPOST_BIN    use this sealpost binary instead of building ./cmd/sealpost
#   KEEP_TMP=1      keep the work directory (binaries, logs, raw outputs)
#
# Everything listens on and targets 127.0.0.1 only. Both servers are stopped
# on exit.
set -euo pipefail

script=sqs.sh
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_args "$@"

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONCURRENCY=${CONCURRENCY:-16}
SIZE=${SIZE:-1024}
PREFILL_MOTO=${PREFILL_MOTO:-300}
PREFILL_SEALPOST=${PREFILL_SEALPOST:-50000}
RATE=${RATE:-50}
CONSUMERS=${CONSUMERS:-4}
SCENARIOS=${SCENARIOS:-send,recv,fanout,latency}
VIA=${VIA:-sns}
TARGETS=${TARGETS:-"moto sealpost sealpost-plain"}
SEALPOST_ARGS=${SEALPOST_ARGS:-}
SEALPOST_BIN=${SEALPOST_BIN:-}

bench_root

for t in $TARGETS; do
	case "$t" in moto | sealpost | sealpost-plain) ;; *) die "unknown target $t in TARGETS (want moto, sealpost, sealpost-plain)" ;; esac
done
if [ -n "$SEALPOST_BIN" ]; then
	[ -x "$SEALPOST_BIN" ] || die "SEALPOST_BIN=$SEALPOST_BIN is not an executable file"
	SEALPOST_BIN=$(cd "$(dirname "$SEALPOST_BIN")" && pwd)/$(basename "$SEALPOST_BIN")
fi
command -v go >/dev/null || die "go is not installed"
case " $TARGETS " in *" moto "*) command -v moto_server >/dev/null || die "moto_server is not installed (pip install 'moto[server]')" ;; esac
command -v curl >/dev/null || die "curl is not installed"
command -v python3 >/dev/null || die "python3 is not installed (needed for free ports and the table)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sqsbench.XXXXXX")
moto_pid=""
sealpost_pid=""
bench_pid=""
failures=0

bench_traps

case " $TARGETS " in *" sealpost"*)
	log "building sealpost into $tmp"
	if [ -n "$SEALPOST_BIN" ]; then
		cp "$SEALPOST_BIN" "$tmp/sealpost"
	else
		go build -o "$tmp/sealpost" ./cmd/sealpost || die "building ./cmd/sealpost failed"
	fi
	;;
esac
log "building sqsbench into $tmp"
go build -o "$tmp/sqsbench" ./cmd/sqsbench || die "building ./cmd/sqsbench failed"

# run_bench TARGET URL PREFILL [CA] [QUEUE-ATTRS]: sqsbench against URL, into
# $tmp/TARGET.{out,err,json}.
run_bench() {
	local target=$1 url=$2 prefill=$3 ca=${4:-} attrs=${5:-} rc=0
	log "sqsbench against $target ($url): $DURATION per scenario, concurrency $CONCURRENCY${attrs:+, queue attributes $attrs}"
	"$tmp/sqsbench" -endpoint "$url" ${ca:+-ca "$ca"} ${attrs:+-queue-attrs "$attrs"} -concurrency "$CONCURRENCY" \
		-duration "$DURATION" -warmup "$WARMUP" -size "$SIZE" -prefill "$prefill" -rate "$RATE" -consumers "$CONSUMERS" \
		-scenarios "$SCENARIOS" -via "$VIA" -json >"$tmp/$target.out" 2>"$tmp/$target.err" &
	bench_pid=$!
	wait "$bench_pid" || rc=$?
	bench_pid=""
	[ "$rc" != 130 ] || exit 130
	grep -v '^{' "$tmp/$target.out" | sed "s/^/  [$target] /" >&2 || true
	if [ "$rc" != 0 ]; then
		failures=$((failures + 1))
		log "sqsbench ($target) exited with status $rc:"
		tail -n 5 "$tmp/$target.err" >&2 || true
	fi
	grep '^{' "$tmp/$target.out" | tail -n 1 >"$tmp/$target.json" || true
}

# start_sealpost PORT DATA-DIR: each Sealpost target gets a fresh data dir, so
# that the second one does not pay for the first one's data (compactions).
start_sealpost() {
	local port=$1 data=$2
	log "starting sealpost on 127.0.0.1:$port (data dir $data)"
	mkdir -p "$data"
	# shellcheck disable=SC2086 # SEALPOST_ARGS is a list of flags
	"$tmp/sealpost" --listen "127.0.0.1:$port" --data-dir "$data" $SEALPOST_ARGS >>"$tmp/sealpost.log" 2>&1 &
	sealpost_pid=$!
	wait_ready sealpost "$sealpost_pid" "http://127.0.0.1:$port/health" "$tmp/sealpost.log" || die "sealpost did not start"
}

uptime_before=$(uptime)
log "uptime before: $uptime_before"
for target in $TARGETS; do
	port=$(free_port)
	case "$target" in
	moto)
		log "starting moto_server on 127.0.0.1:$port"
		moto_server -H 127.0.0.1 -p "$port" >"$tmp/moto.log" 2>&1 &
		moto_pid=$!
		wait_ready moto_server "$moto_pid" "http://127.0.0.1:$port/" "$tmp/moto.log" || die "moto_server did not start"
		run_bench moto "http://127.0.0.1:$port" "$PREFILL_MOTO"
		stop_pid moto_server "$moto_pid" 5
		moto_pid=""
		;;
	sealpost | sealpost-plain)
		start_sealpost "$port" "$tmp/data-$target"
		attrs=""
		[ "$target" = sealpost ] || attrs="SqsManagedSseEnabled=false"
		run_bench "$target" "https://127.0.0.1:$port" "$PREFILL_SEALPOST" "$tmp/data-$target/tls/ca.pem" "$attrs"
		stop_pid sealpost "$sealpost_pid" 15
		sealpost_pid=""
		;;
	esac
done
uptime_after=$(uptime)
log "uptime after: $uptime_after"

echo
echo "sqs.sh: concurrency $CONCURRENCY, $SIZE-byte bodies, $DURATION per scenario after $WARMUP warm-up; latency ($VIA) at $RATE msgs/s with $CONSUMERS long-polling consumers"
echo "Sealpost over https (dev CA, embedded store${SEALPOST_ARGS:+, flags: $SEALPOST_ARGS}); moto_server $(python3 -c 'import moto; print(moto.__version__)' 2>/dev/null || true) over plain HTTP"
echo "uptime before: $uptime_before"
echo "uptime after:  $uptime_after"
python3 - "$tmp" <<'PYEOF'
import json, os, sys

tmp = sys.argv[1]
targets = ("moto", "sealpost", "sealpost-plain")

def load(name):
    try:
        with open(os.path.join(tmp, name + ".json")) as f:
            line = f.read().strip()
        return json.loads(line) if line else None
    except (OSError, ValueError):
        return None

rep = {t: load(t) for t in targets}

def res(t, scen):
    for x in (rep.get(t) or {}).get("results", []):
        if x["scenario"] == scen:
            return x
    return None

def fmt(v):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.1f}" if abs(v) >= 100 else f"{v:.2f}"
    return str(v)

rows = []
metrics = {
    "send": (("msgs_per_sec", "SendMessage msgs/s", "higher"), ("p50_ms", "call p50 ms", "lower"), ("p99_ms", "call p99 ms", "lower"), ("errors", "errors", "")),
    "recv": (("msgs_per_sec", "receive+delete msgs/s", "higher"), ("p50_ms", "receive+delete p50 ms", "lower"), ("p99_ms", "receive+delete p99 ms", "lower"), ("prefill", "queue backlog at the start", ""), ("ran_dry", "queue ran dry", ""), ("errors", "errors", "")),
    "fanout": (("msgs_per_sec", "landed in the queue msgs/s", "higher"), ("publish_per_sec", "Publish calls/s", "higher"), ("lost", "not landed", ""), ("errors", "errors", "")),
    "latency": (("p50_ms", "publish-to-receive p50 ms", "lower"), ("p90_ms", "publish-to-receive p90 ms", "lower"), ("p99_ms", "publish-to-receive p99 ms", "lower"), ("max_ms", "publish-to-receive max ms", "lower"), ("messages", "received", ""), ("lost", "lost", ""), ("errors", "errors", "")),
}
for scen, ms in metrics.items():
    for key, label, better in ms:
        vals = []
        for t in targets:
            x = res(t, scen)
            vals.append(None if x is None else x.get(key, 0))
        ratios = []
        for v in vals[1:]:
            m = vals[0]
            if better and isinstance(m, (int, float)) and isinstance(v, (int, float)) and m and v:
                # Throughputs: Sealpost/moto; latencies: how many times lower.
                ratios.append(f"{v / m:.1f}x" if better == "higher" else f"{m / v:.1f}x lower")
            else:
                ratios.append("")
        rows.append((scen, label, *[fmt(v) for v in vals], *ratios))
    for t in targets:
        x = res(t, scen)
        if x and x.get("error_codes"):
            rows.append((scen, f"{t} error codes", json.dumps(x["error_codes"]), "", "", "", ""))
        if x and x.get("note"):
            rows.append((scen, f"{t} note", x["note"], "", "", "", ""))

hdr = ("scenario", "metric", "moto (http)", "sealpost SSE-SQS", "sealpost plain", "SSE-SQS vs moto", "plain vs moto")
widths = [max(len(str(r[i])) for r in rows + [hdr]) for i in range(len(hdr))]
def line(r):
    return "  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
print(line(hdr))
print("  ".join("-" * w for w in widths))
prev = None
for r in rows:
    if prev is not None and r[0] != prev:
        print()
    print(line(r))
    prev = r[0]
PYEOF
if [ "$failures" != 0 ]; then
	log "$failures step(s) failed (see above)"
	exit 1
fi
