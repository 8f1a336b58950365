#!/usr/bin/env bash
# scaleout.sh: run the same sealbench e2e scenario against Sealpost on its
# embedded store (one node) and on a throwaway PostgreSQL with 1, 2 and 3
# nodes, and print one table with throughput, latency and where the CPU time
# went (postgres vs sealpost vs sealbench).
#
# Usage: bench/scaleout.sh           (from anywhere inside the repository)
#
# Every run: sealbench -mode e2e -raw -subs SUBS, CONCURRENCY publishers
# spread round-robin over the run's nodes (-endpoint lists them all), SIZE
# byte messages, for DURATION after WARMUP, then up to DRAIN for the
# deliveries. Each PostgreSQL run gets a fresh database and fresh data
# directories, so no run sees another's backlog.
#
# Environment knobs (defaults in brackets):
#   DURATION [10s]  WARMUP [1s]  DRAIN [60s]  SIZE [1024]  CONCURRENCY [16]
#   SUBS [2]  NODES ["1 2 3"] (PostgreSQL node counts)  EMBEDDED [1] (0 skips
#   the embedded-store run)
#   SEALBENCH_ARGS  extra flags for every sealbench run (e.g. "-rate 500")
#   SEALPOST_ARGS   extra flags for every sealpost node
#   PG_ARGS         extra postgres flags (e.g. "-c synchronous_commit=off")
#   SEALPOST_BIN    use this sealpost binary instead of building ./cmd/sealpost
#   KEEP_TMP=1      keep the work directory (binaries, logs, raw outputs)
#
# PostgreSQL: initdb into the work directory (as the `postgres` user when run
# as root, as the tests do), fsync on, listening on 127.0.0.1 only at a free
# port. Everything listens on and targets 127.0.0.1 only. Postgres and all
# nodes are stopped on exit.
set -euo pipefail

script=scaleout.sh
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_args "$@"

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-1s}
DRAIN=${DRAIN:-60s}
SIZE=${SIZE:-1024}
CONCURRENCY=${CONCURRENCY:-16}
SUBS=${SUBS:-2}
NODES=${NODES:-"1 2 3"}
EMBEDDED=${EMBEDDED:-1}
SEALBENCH_ARGS=${SEALBENCH_ARGS:-}
SEALPOST_ARGS=${SEALPOST_ARGS:-}
PG_ARGS=${PG_ARGS:-}
SEALPOST_BIN=${SEALPOST_BIN:-}


bench_root

# Preconditions, checked before anything is started.
if [ -n "$SEALPOST_BIN" ]; then
	[ -x "$SEALPOST_BIN" ] || die "SEALPOST_BIN=$SEALPOST_BIN is not an executable file"
	SEALPOST_BIN=$(cd "$(dirname "$SEALPOST_BIN")" && pwd)/$(basename "$SEALPOST_BIN")
elif ! compgen -G "cmd/sealpost/*.go" >/dev/null; then
	die "cmd/sealpost does not exist (no Go files in $root/cmd/sealpost)"
fi
for n in $NODES; do
	case "$n" in
	[1-9] | [1-9][0-9]) ;;
	*) die "NODES=\"$NODES\": want node counts between 1 and 99" ;;
	esac
done
command -v go >/dev/null || die "go is not installed"
command -v curl >/dev/null || die "curl is not installed"
command -v python3 >/dev/null || die "python3 is not installed (needed for free ports, CPU accounting and the table)"

pg_find

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sealbench-scaleout.XXXXXX")
node_pids=()
bench_pid=""

stop_nodes() {
	local p
	# Sealpost shuts down gracefully within 10s by default; stop the nodes
	# together so none waits for another.
	for p in "${node_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${node_pids[@]}"; do stop_pid sealpost "$p" 15; done
	node_pids=()
}

cleanup_more() {
	stop_nodes
	pg_stop
}
bench_traps

# cpu.py prints the CPU seconds (user+system) used so far by each named
# process and all its live descendants, as JSON {"name": seconds}. A live
# process's cutime/cstime already hold its reaped children, so summing
# utime+stime+cutime+cstime over the live tree counts every process once:
# postgres backends that exit during a run move into the postmaster's
# cutime/cstime.
cat >"$tmp/cpu.py" <<'EOF'
import json, os, sys

hz = os.sysconf("SC_CLK_TCK")
stat = {}
for d in os.listdir("/proc"):
    if not d.isdigit():
        continue
    try:
        with open(f"/proc/{d}/stat") as f:
            s = f.read()
    except OSError:
        continue
    rest = s[s.rindex(")") + 2:].split()
    # rest[0] is field 3 (state): ppid is field 4, utime..cstime fields 14-17.
    stat[int(d)] = (int(rest[1]), sum(int(x) for x in rest[11:15]))
children = {}
for pid, (ppid, _) in stat.items():
    children.setdefault(ppid, []).append(pid)

def tree(pid):
    if pid not in stat:
        return 0
    return stat[pid][1] + sum(tree(c) for c in children.get(pid, []))

out = {}
for arg in sys.argv[1:]:
    name, _, pids = arg.partition("=")
    out[name] = sum(tree(int(p)) for p in pids.split(",") if p) / hz
print(json.dumps(out))
EOF

build_binaries "$tmp"

# --- PostgreSQL ---------------------------------------------------------
# shellcheck disable=SC2086 # PG_ARGS is a list of flags
pg_start "$tmp" $PG_ARGS

# --- runs ---------------------------------------------------------------
# run_case label nodes store(embedded|pg)
run_case() {
	local label=$1 n=$2 store=$3 k port url pid endpoints="" dsn="" pids="" rc
	local dir=$tmp/$label
	mkdir -p "$dir"
	if [ "$store" = pg ]; then
		local db="sealbench_$label"
		pgsql -c "CREATE DATABASE $db" >/dev/null || die "CREATE DATABASE $db failed"
		dsn="postgres://postgres@127.0.0.1:$pg_port/$db?sslmode=disable"
	fi
	# Nodes sharing a database share one root key (a node's own
	# development key would not match the check value in the database).
	(umask 077 && python3 -c 'import secrets; print(secrets.token_hex(32))' >"$dir/root.key")
	for k in $(seq "$n"); do
		port=$(free_port)
		url="http://127.0.0.1:$port"
		local args=(--listen "127.0.0.1:$port" --data-dir "$dir/node$k" --node-id "$label-node$k" --root-key-file "$dir/root.key")
		[ -z "$dsn" ] || args+=(--store "$dsn")
		log "$label: starting sealpost node $k on 127.0.0.1:$port${dsn:+ (store $dsn)}"
		# shellcheck disable=SC2086 # SEALPOST_ARGS is a list of flags
		"$tmp/sealpost" "${args[@]}" $SEALPOST_ARGS >"$dir/node$k.log" 2>&1 &
		pid=$!
		node_pids+=("$pid")
		pids="$pids${pids:+,}$pid"
		# One node at a time: the first creates the schema.
		wait_ready "$label node $k" "$pid" "$url/health" "$dir/node$k.log" || die "sealpost node $k of $label did not start"
		endpoints="$endpoints${endpoints:+,}$url"
	done

	local before after t0 t1
	before=$(python3 "$tmp/cpu.py" "postgres=$pg_pid" "sealpost=$pids")
	t0=$(date +%s.%N)
	log "$label: sealbench -mode e2e -raw against $endpoints"
	rc=0
	# In the background and waited for, so a signal to this script is
	# handled at once.
	# shellcheck disable=SC2086 # SEALBENCH_ARGS is a list of flags
	"$tmp/sealbench" -endpoint "$endpoints" -mode e2e -raw -subs "$SUBS" -size "$SIZE" \
		-concurrency "$CONCURRENCY" -duration "$DURATION" -warmup "$WARMUP" -drain "$DRAIN" -json $SEALBENCH_ARGS \
		>"$dir/sealbench.out" 2>"$dir/sealbench.err" &
	bench_pid=$!
	wait "$bench_pid" || rc=$?
	bench_pid=""
	t1=$(date +%s.%N)
	after=$(python3 "$tmp/cpu.py" "postgres=$pg_pid" "sealpost=$pids")
	grep -v '^{' "$dir/sealbench.out" | sed "s/^/  [$label] /" >&2 || true
	[ "$rc" != 130 ] || exit 130
	if [ "$rc" != 0 ]; then
		log "$label: sealbench exited with status $rc; last lines of its log:"
		tail -n 5 "$dir/sealbench.err" >&2 || true
	fi
	grep '^{' "$dir/sealbench.out" | tail -n 1 >"$tmp/$label.json" || true

	# Log lines at WARN or ERROR level from the nodes, for the table.
	local warns errs
	warns=$(cat "$dir"/node*.log | grep -c 'level=WARN' || true)
	errs=$(cat "$dir"/node*.log | grep -c 'level=ERROR' || true)
	python3 - "$before" "$after" "$t0" "$t1" "$warns" "$errs" >"$tmp/$label.cpu.json" <<'EOF'
import json, sys
b, a = json.loads(sys.argv[1]), json.loads(sys.argv[2])
out = {k: round(a[k] - b[k], 2) for k in a}
out["wall_s"] = round(float(sys.argv[4]) - float(sys.argv[3]), 2)
out["log_warn"], out["log_error"] = int(sys.argv[5]), int(sys.argv[6])
print(json.dumps(out))
EOF
	log "$label: cpu $(cat "$tmp/$label.cpu.json")"
	if [ "$warns" != 0 ] || [ "$errs" != 0 ]; then
		log "$label: sealpost logged $warns warning(s) and $errs error(s); first few:"
		cat "$dir"/node*.log | grep -E 'level=(WARN|ERROR)' | head -n 5 >&2 || true
	fi
	stop_nodes
}

labels=()
if [ "$EMBEDDED" = 1 ]; then
	run_case embedded 1 embedded
	labels+=(embedded)
fi
for n in $NODES; do
	run_case "pg$n" "$n" pg
	labels+=("pg$n")
done
pg_stop

echo
echo "sealbench scale-out: e2e raw delivery, ${SIZE}-byte messages, concurrency $CONCURRENCY over all nodes, $SUBS subscription(s), $DURATION per run, $(nproc) CPUs${SEALBENCH_ARGS:+, extra flags: $SEALBENCH_ARGS}"
python3 - "$tmp" "${labels[@]}" <<'EOF'
import json, os, sys

tmp, labels = sys.argv[1], sys.argv[2:]

def load(name):
    try:
        with open(os.path.join(tmp, name)) as f:
            line = f.read().strip()
        return json.loads(line) if line else {}
    except (OSError, ValueError):
        return {}

runs = {l: (load(f"{l}.json"), load(f"{l}.cpu.json")) for l in labels}

def title(l):
    return "embedded" if l == "embedded" else "pg x" + l[2:]

def fmt(v):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        if abs(v) >= 100:
            return f"{v:.1f}"
        return f"{v:.2f}" if abs(v) >= 1 else f"{v:.3f}"
    return str(v)

def r(key):
    return lambda s, c: s.get(key)

def c(key):
    return lambda s, c: c.get(key)

def per_msg(key):
    # CPU milliseconds per successfully published message (each has SUBS
    # deliveries), over the whole sealbench run including warm-up and drain.
    def f(s, c):
        n = (s.get("published") or 0) + (s.get("warmup_published") or 0)
        v = c.get(key) if key != "sealbench" else s.get("cpu_s")
        return v * 1000 / n if n and v is not None else None
    return f

def total_cpu(s, c):
    parts = [c.get("postgres"), c.get("sealpost"), s.get("cpu_s")]
    return sum(parts) if all(p is not None for p in parts) else None

def busy(s, c):
    t, w = total_cpu(s, c), c.get("wall_s")
    return t / w if t is not None and w else None

def split(s, c):
    eps = s.get("per_endpoint") or []
    return "/".join(str(e.get("published")) for e in eps) if eps else None

rows = [
    ("publish msgs/s", r("publish_per_sec")),
    ("delivered deliveries/s", r("deliveries_per_sec")),
    ("publish p50 ms", r("pub_lat_p50_ms")),
    ("publish p99 ms", r("pub_lat_p99_ms")),
    ("end-to-end p50 ms", r("e2e_lat_p50_ms")),
    ("end-to-end p99 ms", r("e2e_lat_p99_ms")),
    ("published (measured)", r("published")),
    ("published per node", split),
    ("publish errors", r("errors")),
    ("delivered", r("delivered")),
    ("lost (after drain)", r("lost")),
    ("duplicates", r("duplicates")),
    ("drain wait s", r("drain_wait_s")),
    None,
    ("run wall s", c("wall_s")),
    ("cpu s postgres", c("postgres")),
    ("cpu s sealpost (all nodes)", c("sealpost")),
    ("cpu s sealbench", r("cpu_s")),
    ("cpu s total", total_cpu),
    ("CPUs busy (of %d)" % os.cpu_count(), busy),
    ("cpu ms/msg postgres", per_msg("postgres")),
    ("cpu ms/msg sealpost", per_msg("sealpost")),
    ("cpu ms/msg sealbench", per_msg("sealbench")),
    ("sealpost log warn/error", lambda s, c: f"{c.get('log_warn')}/{c.get('log_error')}" if c else None),
]

hdr = ["metric"] + [title(l) for l in labels]
table = []
for row in rows:
    if row is None:
        table.append(None)
        continue
    label, f = row
    table.append([label] + [fmt(f(*runs[l])) if runs[l][0] or runs[l][1] else "n/a" for l in labels])
widths = [max(len(x[i]) for x in [hdr] + [t for t in table if t]) for i in range(len(hdr))]
def line(x):
    return "  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(x, widths)))
print(line(hdr))
print("  ".join("-" * w for w in widths))
for t in table:
    print("" if t is None else line(t))
EOF
