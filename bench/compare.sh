#!/usr/bin/env bash
# compare.sh: run the same sealbench scenarios against moto_server and Sealpost
# (both started here, on free 127.0.0.1 ports) and print a comparison table.
#
# Usage: bench/compare.sh            (from anywhere inside the repository)
#
# Scenarios:
#   publish     -mode publish, SUBS subscriptions of SUB_PROTOCOL, closed loop
#   e2e-raw     -mode e2e -raw (http subscriptions to sealbench's sink)
#   e2e-signed  -mode e2e without -raw: every notification is signed and
#               delivered in the SNS JSON envelope ("e2e" is an alias)
#
# After the scenarios, `sealbench -mode rsa` measures this machine's RSA-2048
# signing rate on all cores and on one core, and the Sealpost e2e-signed
# delivery rate is printed as a ratio of both (every signed notification
# needs one RSA signature, so signing is the ceiling for signed delivery).
#
# Environment knobs (defaults in brackets):
#   DURATION [10s]  WARMUP [1s]  DRAIN [30s]  SIZE [1024]  CONCURRENCY [16]
#   SUBS [2]  SUB_PROTOCOL [http]  SCENARIOS ["publish e2e-raw e2e-signed"]
#   RSA [1] (0 skips the signing measurement)  RSA_DURATION [5s] per rsa run
#   SEALBENCH_ARGS  extra flags for every sealbench run (e.g. "-rate 50")
#   SEALPOST_ARGS   extra flags for sealpost
#   SEALPOST_BIN    use this sealpost binary instead of building ./cmd/sealpost
#   KEEP_TMP=1      keep the work directory (binaries, logs, raw outputs)
#
# Everything listens on and targets 127.0.0.1 only. Both servers are killed
# on exit.
set -euo pipefail

script=compare.sh
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_args "$@"

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-1s}
DRAIN=${DRAIN:-30s}
SIZE=${SIZE:-1024}
CONCURRENCY=${CONCURRENCY:-16}
SUBS=${SUBS:-2}
SUB_PROTOCOL=${SUB_PROTOCOL:-http}
SCENARIOS=${SCENARIOS:-"publish e2e-raw e2e-signed"}
RSA=${RSA:-1}
RSA_DURATION=${RSA_DURATION:-5s}
SEALBENCH_ARGS=${SEALBENCH_ARGS:-}
SEALPOST_ARGS=${SEALPOST_ARGS:-}
SEALPOST_BIN=${SEALPOST_BIN:-}


bench_root

# Preconditions, checked before anything is started.
if [ -n "$SEALPOST_BIN" ]; then
	[ -x "$SEALPOST_BIN" ] || die "SEALPOST_BIN=$SEALPOST_BIN is not an executable file"
	SEALPOST_BIN=$(cd "$(dirname "$SEALPOST_BIN")" && pwd)/$(basename "$SEALPOST_BIN")
elif ! compgen -G "cmd/sealpost/*.go" >/dev/null; then
	die "cmd/sealpost does not exist yet (no Go files in $root/cmd/sealpost): there is no Sealpost server to benchmark"
fi
command -v go >/dev/null || die "go is not installed"
command -v moto_server >/dev/null || die "moto_server is not installed (pip install 'moto[server]')"
command -v curl >/dev/null || die "curl is not installed"
command -v python3 >/dev/null || die "python3 is not installed (needed for free ports and the table)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sealbench-compare.XXXXXX")
moto_pid=""
sealpost_pid=""
bench_pid=""

bench_traps

build_binaries "$tmp"

moto_port=$(free_port)
sealpost_port=$(free_port)
moto_url="http://127.0.0.1:$moto_port"
sealpost_url="http://127.0.0.1:$sealpost_port"

log "starting moto_server on 127.0.0.1:$moto_port"
moto_server -H 127.0.0.1 -p "$moto_port" >"$tmp/moto.log" 2>&1 &
moto_pid=$!

log "starting sealpost on 127.0.0.1:$sealpost_port"
mkdir -p "$tmp/data"
# shellcheck disable=SC2086 # SEALPOST_ARGS is a list of flags
"$tmp/sealpost" --listen "127.0.0.1:$sealpost_port" --data-dir "$tmp/data" $SEALPOST_ARGS >"$tmp/sealpost.log" 2>&1 &
sealpost_pid=$!

wait_ready moto_server "$moto_pid" "$moto_url/" "$tmp/moto.log" || die "moto_server did not start"
wait_ready sealpost "$sealpost_pid" "$sealpost_url/health" "$tmp/sealpost.log" || die "sealpost did not start (flags used: --listen 127.0.0.1:$sealpost_port --data-dir $tmp/data $SEALPOST_ARGS)"

common=(-size "$SIZE" -concurrency "$CONCURRENCY" -subs "$SUBS" -duration "$DURATION" -warmup "$WARMUP" -json)

scenario_args() { # scenario
	case "$1" in
	publish) echo "-mode publish -sub-protocol $SUB_PROTOCOL" ;;
	e2e-raw) echo "-mode e2e -raw -drain $DRAIN" ;;
	e2e-signed | e2e) echo "-mode e2e -drain $DRAIN" ;;
	*) die "unknown scenario $1 (want publish, e2e-raw or e2e-signed)" ;;
	esac
}

# bench_run LABEL OUTBASE ARGS...: run sealbench in the background (so a
# signal to this script is handled at once), show its report prefixed with
# [LABEL], keep its JSON line in OUTBASE.json, stop here if it was interrupted.
bench_run() {
	local label=$1 out=$2 rc=0
	shift 2
	"$tmp/sealbench" "$@" >"$out.out" 2>"$out.err" &
	bench_pid=$!
	wait "$bench_pid" || rc=$?
	bench_pid=""
	grep -v '^{' "$out.out" | sed "s/^/  [$label] /" >&2 || true
	# sealbench exits 130 when interrupted: stop here too.
	[ "$rc" != 130 ] || exit 130
	if [ "$rc" != 0 ]; then
		log "sealbench ($label) exited with status $rc; last lines of its log:"
		tail -n 5 "$out.err" >&2 || true
	fi
	grep '^{' "$out.out" | tail -n 1 >"$out.json" || true
}

for sc in $SCENARIOS; do
	args=$(scenario_args "$sc")
	for target in moto sealpost; do
		if [ "$target" = moto ]; then url=$moto_url; pid=$moto_pid; else url=$sealpost_url; pid=$sealpost_pid; fi
		kill -0 "$pid" 2>/dev/null || die "$target is no longer running (see $tmp/$target.log; KEEP_TMP=1 keeps it)"
		log "scenario $sc against $target ($url)"
		# shellcheck disable=SC2086 # args and SEALBENCH_ARGS are lists of flags
		bench_run "$target" "$tmp/$sc.$target" -endpoint "$url" "${common[@]}" $args $SEALBENCH_ARGS
	done
done

# The RSA signing ceiling, measured while both servers sit idle: all cores
# (one goroutine per CPU), then one core.
if [ "$RSA" = 1 ]; then
	for rsa in all one; do
		if [ "$rsa" = all ]; then rsa_args=(); else rsa_args=(-concurrency 1); fi
		log "sealbench -mode rsa ${rsa_args[*]} for $RSA_DURATION"
		bench_run rsa "$tmp/rsa.$rsa" -mode rsa "${rsa_args[@]}" -duration "$RSA_DURATION" -json
	done
fi

echo
echo "sealbench: moto_server vs Sealpost — ${SIZE}-byte messages, concurrency $CONCURRENCY, $SUBS subscription(s), $DURATION per run${SEALBENCH_ARGS:+, extra flags: $SEALBENCH_ARGS}"
python3 - "$tmp" $SCENARIOS <<'EOF'
import json, os, sys

tmp, scenarios = sys.argv[1], sys.argv[2:]

def load(sc, target):
    try:
        with open(os.path.join(tmp, f"{sc}.{target}.json")) as f:
            line = f.read().strip()
        return json.loads(line) if line else None
    except (OSError, ValueError):
        return None

# (key, label, better) where better is "higher" or "lower"
publish_rows = [
    ("publish_per_sec", "publish msgs/s", "higher"),
    ("pub_lat_p50_ms", "publish p50 ms", "lower"),
    ("pub_lat_p90_ms", "publish p90 ms", "lower"),
    ("pub_lat_p99_ms", "publish p99 ms", "lower"),
    ("pub_lat_max_ms", "publish max ms", "lower"),
    ("errors", "publish errors", "lower"),
]
e2e_rows = [
    ("deliveries_per_sec", "delivered deliveries/s", "higher"),
    ("delivered_msgs_per_sec", "delivered msgs/s per sub", "higher"),
    ("e2e_lat_p50_ms", "end-to-end p50 ms", "lower"),
    ("e2e_lat_p99_ms", "end-to-end p99 ms", "lower"),
    ("e2e_lat_max_ms", "end-to-end max ms", "lower"),
    ("duplicates", "duplicates", "lower"),
    ("lost", "lost", "lower"),
    ("envelope_bodies", "bodies in JSON envelope", ""),
    ("raw_bodies", "raw bodies", ""),
]

def fmt(v):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        if abs(v) >= 100:
            return f"{v:.1f}"
        return f"{v:.2f}" if abs(v) >= 1 else f"{v:.3f}"
    return str(v)

hdr = ("scenario", "metric", "moto", "sealpost", "sealpost/moto")
rows = []
for sc in scenarios:
    m, s = load(sc, "moto"), load(sc, "sealpost")
    keys = publish_rows + (e2e_rows if (m or s or {}).get("mode") == "e2e" else [])
    for key, label, better in keys:
        mv = m.get(key) if m else None
        sv = s.get(key) if s else None
        ratio = "n/a"
        if isinstance(mv, (int, float)) and isinstance(sv, (int, float)) and mv:
            ratio = f"{sv / mv:.2f}x"
            if better:
                ratio += f" ({better} is better)"
        rows.append((sc, label, fmt(mv), fmt(sv), ratio))

widths = [max(len(str(r[i])) for r in rows + [hdr]) for i in range(len(hdr))]
def line(r):
    return "  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w) if i < 4 else str(c) for i, (c, w) in enumerate(zip(r, widths)))
print(line(hdr))
print("  ".join("-" * w for w in widths))
prev = None
for r in rows:
    if prev is not None and r[0] != prev:
        print()
    print(line(r))
    prev = r[0]
EOF

[ "$RSA" = 1 ] || exit 0
echo
python3 - "$tmp" "$SUBS" <<'EOF'
import json, os, sys

tmp, subs = sys.argv[1], int(sys.argv[2])

def load(name):
    try:
        with open(os.path.join(tmp, name)) as f:
            line = f.read().strip()
        return json.loads(line) if line else None
    except (OSError, ValueError):
        return None

all_, one = load("rsa.all.json"), load("rsa.one.json")
signed = load("e2e-signed.sealpost.json") or load("e2e.sealpost.json")
print("RSA-2048 signing ceiling (sealbench -mode rsa: RSASSA-PKCS1-v1_5 SHA-256 over the message, on this machine)")
for label, r in (("all cores", all_), ("one core", one)):
    if r:
        print(f"  {label + ':':11} {r['signatures_per_sec']:9.1f} signatures/s  ({r['concurrency']} goroutine(s), "
              f"{r['sign_mean_ms']:.3f} ms per signature, {r['cpus_busy_avg']:.2f} CPUs busy)")
    else:
        print(f"  {label + ':':11} n/a (sealbench -mode rsa failed)")
if not signed or not signed.get("deliveries_per_sec"):
    print("Sealpost signed delivery: n/a (no e2e-signed result for Sealpost; add e2e-signed to SCENARIOS)")
    sys.exit(0)
d = signed["deliveries_per_sec"]
m = signed.get("delivered_msgs_per_sec") or d / max(subs, 1)
print(f"Sealpost e2e-signed: {d:.1f} deliveries/s = {m:.1f} msgs/s per subscription "
      f"({signed.get('envelope_bodies')} signed envelopes, {signed.get('lost')} lost, {signed.get('duplicates')} duplicates)")
def ratio(x, r):
    return f"{x / r['signatures_per_sec']:.2f}" if r and r.get("signatures_per_sec") else "n/a"
print(f"  signed deliveries/s / signing rate:  {ratio(d, all_)} of all cores, {ratio(d, one)} of one core")
print(f"  signed msgs/s / signing rate:        {ratio(m, all_)} of all cores, {ratio(m, one)} of one core")
dd = signed.get("drain_deliveries_per_sec")
if dd:
    dm = dd / max(subs, 1)
    print(f"  delivery alone (the drain after the last publish, {signed.get('drain_deliveries')} deliveries): "
          f"{dd:.1f} deliveries/s = {dm:.1f} signed msgs/s")
    print(f"    signed msgs/s / signing rate:      {ratio(dm, all_)} of all cores, {ratio(dm, one)} of one core")
print(f"  (Sealpost signs each message once and reuses the signature for all {subs} subscription(s): msgs/s is")
print( "   the signatures it computed per second; a ratio near 1 of all cores means signing alone would saturate the machine)")
EOF
