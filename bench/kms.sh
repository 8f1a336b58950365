#!/usr/bin/env bash
# kms.sh: KMS data-plane throughput, Sealpost against moto_server in the same
# run: GenerateDataKey (AES_256, with an encryption context) and Decrypt per
# second at CONCURRENCY closed-loop workers, measured by bench/kmsload
# (aws-sdk-go-v2, keep-alive transport with 2 idle connections per worker).
#
# Usage: bench/kms.sh            (from anywhere inside the repository)
#
# Sealpost runs as shipped (embedded store, generated dev root key, audit log
# on: every call is one hash-chained record written durably before the
# answer) and is measured over HTTPS with its generated CA. moto_server is
# measured over plain HTTP (it serves no TLS itself); that favours moto.
# One server is under load at a time; the other sits idle. After the run the
# script stops Sealpost and runs `sealpost audit verify` over its data dir.
#
# Printed per target and operation: ops/s, p50/p90/p99/max latency, errors;
# the Sealpost/moto ratio; CPU seconds each server used in its phases; RSS of
# each server (idle before the load, peak = VmHWM, and after the load).
#
# Environment knobs (defaults in brackets):
#   DURATION [15s] per operation  WARMUP [3s] before each  CONCURRENCY [16]
#   BLOBS [256] data keys Decrypt cycles through
#   TARGETS ["moto sealpost"] (one of them alone also works)
#   SEALPOST_SCHEME [https]  http measures Sealpost over plain HTTP, like moto
#   SEALPOST_ARGS   extra flags for sealpost (e.g. "--store postgres://...")
#   SEALPOST_BIN    use this sealpost binary instead of building ./cmd/sealpost
#   KEEP_TMP=1      keep the work directory (binaries, logs, raw outputs)
#
# Everything listens on and targets 127.0.0.1 only. Both servers are stopped
# on exit.
set -euo pipefail

script=kms.sh
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_args "$@"

DURATION=${DURATION:-15s}
WARMUP=${WARMUP:-3s}
CONCURRENCY=${CONCURRENCY:-16}
BLOBS=${BLOBS:-256}
TARGETS=${TARGETS:-"moto sealpost"}
SEALPOST_ARGS=${SEALPOST_ARGS:-}
SEALPOST_BIN=${SEALPOST_BIN:-}
SEALPOST_SCHEME=${SEALPOST_SCHEME:-https}
case "$SEALPOST_SCHEME" in http | https) ;; *) die "SEALPOST_SCHEME must be http or https" ;; esac

bench_root

for t in $TARGETS; do
	case "$t" in moto | sealpost) ;; *) die "unknown target $t in TARGETS (want moto, sealpost)" ;; esac
done
if [ -n "$SEALPOST_BIN" ]; then
	[ -x "$SEALPOST_BIN" ] || die "SEALPOST_BIN=$SEALPOST_BIN is not an executable file"
	SEALPOST_BIN=$(cd "$(dirname "$SEALPOST_BIN")" && pwd)/$(basename "$SEALPOST_BIN")
fi
command -v go >/dev/null || die "go is not installed"
case " $TARGETS " in *" moto "*) command -v moto_server >/dev/null || die "moto_server is not installed (pip install 'moto[server]')" ;; esac
command -v curl >/dev/null || die "curl is not installed"
command -v python3 >/dev/null || die "python3 is not installed (needed for free ports and the table)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kmsbench.XXXXXX")
moto_pid=""
sealpost_pid=""
load_pid=""
failures=0

bench_traps

case " $TARGETS " in *" sealpost "*) build_binaries "$tmp" ;; esac
log "building kmsload into $tmp"
go build -o "$tmp/kmsload" ./bench/kmsload || die "building ./bench/kmsload failed"

clk_tck=$(getconf CLK_TCK)
# cpu_ticks PID: user+system clock ticks of PID so far.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# mem_kb PID FIELD: a /proc/PID/status memory field (VmRSS, VmHWM) in KiB.
mem_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# measure TARGET PID URL [CA]: run kmsload against URL while recording the
# server's CPU time and memory, into $tmp/TARGET.{json,out,err,res}.
measure() {
	local target=$1 pid=$2 url=$3 ca=${4:-} rc=0 t0 t1 rss0
	kill -0 "$pid" 2>/dev/null || die "$target is no longer running (see $tmp/$target.log; KEEP_TMP=1 keeps it)"
	rss0=$(mem_kb "$pid" VmRSS)
	t0=$(cpu_ticks "$pid")
	log "kmsload against $target ($url): $DURATION per operation, concurrency $CONCURRENCY"
	"$tmp/kmsload" -endpoint "$url" ${ca:+-ca "$ca"} -concurrency "$CONCURRENCY" -duration "$DURATION" \
		-warmup "$WARMUP" -blobs "$BLOBS" -json >"$tmp/$target.out" 2>"$tmp/$target.err" &
	load_pid=$!
	wait "$load_pid" || rc=$?
	load_pid=""
	[ "$rc" != 130 ] || exit 130
	t1=$(cpu_ticks "$pid")
	grep -v '^{' "$tmp/$target.out" | sed "s/^/  [$target] /" >&2 || true
	if [ "$rc" != 0 ]; then
		failures=$((failures + 1))
		log "kmsload ($target) exited with status $rc:"
		tail -n 5 "$tmp/$target.err" >&2 || true
	fi
	grep '^{' "$tmp/$target.out" | tail -n 1 >"$tmp/$target.json" || true
	printf '{"cpu_s": %s, "rss_idle_kb": %s, "rss_peak_kb": %s, "rss_after_kb": %s}\n' \
		"$(python3 -c "print(($t1 - $t0) / $clk_tck)")" "$rss0" "$(mem_kb "$pid" VmHWM)" "$(mem_kb "$pid" VmRSS)" >"$tmp/$target.res"
}

log "uptime before: $(uptime)"
for target in $TARGETS; do
	port=$(free_port)
	if [ "$target" = moto ]; then
		log "starting moto_server on 127.0.0.1:$port"
		moto_server -H 127.0.0.1 -p "$port" >"$tmp/moto.log" 2>&1 &
		moto_pid=$!
		wait_ready moto_server "$moto_pid" "http://127.0.0.1:$port/" "$tmp/moto.log" || die "moto_server did not start"
		measure moto "$moto_pid" "http://127.0.0.1:$port"
		stop_pid moto_server "$moto_pid" 5
		moto_pid=""
	else
		log "starting sealpost on 127.0.0.1:$port"
		mkdir -p "$tmp/data"
		# shellcheck disable=SC2086 # SEALPOST_ARGS is a list of flags
		"$tmp/sealpost" --listen "127.0.0.1:$port" --data-dir "$tmp/data" $SEALPOST_ARGS >"$tmp/sealpost.log" 2>&1 &
		sealpost_pid=$!
		wait_ready sealpost "$sealpost_pid" "http://127.0.0.1:$port/health" "$tmp/sealpost.log" || die "sealpost did not start"
		if [ "$SEALPOST_SCHEME" = https ]; then
			measure sealpost "$sealpost_pid" "https://127.0.0.1:$port" "$tmp/data/tls/ca.pem"
		else
			measure sealpost "$sealpost_pid" "http://127.0.0.1:$port"
		fi
		stop_pid sealpost "$sealpost_pid" 15
		sealpost_pid=""
		log "sealpost audit verify --data-dir $tmp/data"
		"$tmp/sealpost" audit verify --data-dir "$tmp/data" >"$tmp/audit.out" 2>&1 || { failures=$((failures + 1)); log "audit verify FAILED"; }
		sed 's/^/  [audit verify] /' "$tmp/audit.out" >&2
	fi
done
log "uptime after: $(uptime)"

echo
echo "kms.sh: GenerateDataKey (AES_256, encryption context) and Decrypt, concurrency $CONCURRENCY, $DURATION per operation after $WARMUP warm-up"
echo "Sealpost over $SEALPOST_SCHEME (dev CA, audit log on, embedded store${SEALPOST_ARGS:+, flags: $SEALPOST_ARGS}); moto_server over plain HTTP"
python3 - "$tmp" "$SEALPOST_SCHEME" <<'EOF'
import json, os, sys

tmp = sys.argv[1]

def load(name):
    try:
        with open(os.path.join(tmp, name)) as f:
            line = f.read().strip()
        return json.loads(line) if line else None
    except (OSError, ValueError):
        return None

rep = {t: load(t + ".json") for t in ("moto", "sealpost")}
res = {t: load(t + ".res") for t in ("moto", "sealpost")}

def op(t, name):
    r = rep.get(t)
    for x in (r or {}).get("results", []):
        if x["op"] == name:
            return x
    return None

def fmt(v):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.1f}" if abs(v) >= 100 else f"{v:.2f}"
    return str(v)

rows = []
for name in ("generate-data-key", "decrypt"):
    m, s = op("moto", name), op("sealpost", name)
    for key, label, better in (("ops_per_sec", "ops/s", "higher"), ("p50_ms", "p50 ms", "lower"), ("p90_ms", "p90 ms", "lower"),
                               ("p99_ms", "p99 ms", "lower"), ("max_ms", "max ms", "lower"), ("errors", "errors", "")):
        mv = m.get(key) if m else None
        sv = s.get(key) if s else None
        ratio = ""
        if isinstance(mv, (int, float)) and isinstance(sv, (int, float)) and mv and better:
            ratio = f"{sv / mv:.2f}x ({better} is better)"
        rows.append((name, label, fmt(mv), fmt(sv), ratio))
    for t, x in (("moto", m), ("sealpost", s)):
        if x and x.get("error_codes"):
            rows.append((name, f"{t} error codes", json.dumps(x["error_codes"]), "", ""))
vals = []
for t in ("moto", "sealpost"):
    r = rep.get(t)
    vals.append(sum(x.get("client_cpu_s", 0) for x in r["results"]) if r else None)
rows.append(("process", "kmsload CPU s (measured phases)", fmt(vals[0]), fmt(vals[1]), ""))
for key, label in (("cpu_s", "server CPU s (whole kmsload run)"), ("rss_idle_kb", "server RSS idle MiB"),
                   ("rss_peak_kb", "server RSS peak MiB"), ("rss_after_kb", "server RSS after MiB")):
    vals = []
    for t in ("moto", "sealpost"):
        v = (res.get(t) or {}).get(key)
        vals.append(None if v is None else (float(v) if key == "cpu_s" else float(v) / 1024))
    rows.append(("process", label, fmt(vals[0]), fmt(vals[1]), ""))

hdr = ("operation", "metric", "moto (http)", "sealpost (%s)" % sys.argv[2], "sealpost/moto")
widths = [max(len(str(r[i])) for r in rows + [hdr]) for i in range(len(hdr))]
def line(r):
    return "  ".join(str(c).ljust(w) if i < 2 or i == 4 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
print(line(hdr))
print("  ".join("-" * w for w in widths))
prev = None
for r in rows:
    if prev is not None and r[0] != prev:
        print()
    print(line(r))
    prev = r[0]
EOF
if [ -f "$tmp/audit.out" ]; then
	echo
	echo "sealpost audit verify after the run: $(tr '\n' ' ' <"$tmp/audit.out")"
fi
if [ "$failures" != 0 ]; then
	log "$failures step(s) failed (see above)"
	exit 1
fi
