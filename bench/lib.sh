# Helpers shared by the bench scripts (sourced, not run).
# The sourcing script sets `script` (its name, for messages) first.

# Build and measure what the release ships: a static binary without cgo
# (README, "Building"). CGO_ENABLED=1 measures the cgo build instead.
export CGO_ENABLED=${CGO_ENABLED:-0}

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "$script: $*" >&2; exit 1; }
log() { echo "$script: $*" >&2; }

# bench_args "$@": the scripts are configured by environment variables and
# take no argument but -h/--help.
bench_args() {
	case "${1:-}" in
	-h | --help) usage; exit 0 ;;
	"") ;;
	*) echo "$script: unexpected argument $1 (configure with environment variables; see --help)" >&2; exit 2 ;;
	esac
}

# bench_root: cd to the repository root (this file's parent directory,
# which must hold go.mod) and set root to it.
bench_root() {
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	cd "$root"
	[ -f go.mod ] || die "no go.mod in $root"
}

# stop_pid NAME PID GRACE-SECONDS [SIGNAL]: signal PID (TERM by default),
# wait up to GRACE seconds, then SIGKILL it.
stop_pid() {
	local name=$1 pid=$2 grace=$3 sig=${4:-TERM} i
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null || return 0
	kill "-$sig" "$pid" 2>/dev/null || true
	for i in $(seq $((grace * 10))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "$name (pid $pid) did not stop; killing it"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

# bench_cleanup is every script's EXIT trap (bench_traps installs it): it
# stops whichever of the load generator ($bench_pid, $load_pid), moto
# ($moto_pid) and Sealpost ($sealpost_pid) the script started, runs the
# script's cleanup_more function if it defines one (its nodes, PostgreSQL),
# and removes $tmp unless KEEP_TMP=1.
bench_cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	# An interrupted sealbench prints partial results and cleans up its topic.
	stop_pid sealbench "${bench_pid:-}" 10
	stop_pid kmsload "${load_pid:-}" 5
	stop_pid moto_server "${moto_pid:-}" 5
	# Sealpost shuts down gracefully within 10s by default.
	stop_pid sealpost "${sealpost_pid:-}" 15
	if declare -F cleanup_more >/dev/null; then cleanup_more; fi
	if [ -n "${tmp:-}" ]; then
		if [ "${KEEP_TMP:-0}" = 1 ]; then
			log "work directory kept: $tmp"
		else
			rm -rf "$tmp"
		fi
	fi
	exit "$rc"
}
bench_traps() {
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# free_port prints a free 127.0.0.1 port not handed out before by this script.
used_ports=" "
free_port() {
	local p
	while :; do
		p=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
		case "$used_ports" in *" $p "*) continue ;; esac
		used_ports="$used_ports$p "
		echo "$p"
		return
	done
}

# wait_ready NAME PID URL LOG: wait up to 30 s for GET URL to answer 200.
wait_ready() {
	local name=$1 pid=$2 url=$3 logfile=$4 code i
	for i in $(seq 300); do
		if ! kill -0 "$pid" 2>/dev/null; then
			log "$name exited before becoming ready; last lines of its log:"
			tail -n 20 "$logfile" >&2 || true
			return 1
		fi
		code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$url" || true)
		if [ "$code" = 200 ]; then
			log "$name ready at $url"
			return 0
		fi
		sleep 0.1
	done
	log "$name not ready after 30s (GET $url: ${code:-no answer}); last lines of its log:"
	tail -n 20 "$logfile" >&2 || true
	return 1
}

# --- throwaway PostgreSQL (scaleout.sh, soak.sh) -------------------------
# pg_find sets pgbin (the server binaries, found as internal/pgtest finds
# them), psql, and as_pg (the command prefix that runs initdb and postgres as
# the `postgres` user when this script runs as root: PostgreSQL refuses to run
# as root). It dies with a clear message when something is missing.
pg_find() {
	local d
	pgbin=""
	if command -v pg_config >/dev/null; then
		d=$(pg_config --bindir 2>/dev/null || true)
		if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/postgres" ]; then pgbin=$d; fi
	fi
	if [ -z "$pgbin" ]; then
		for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4,4 -n -r); do
			if [ -x "$d/initdb" ] && [ -x "$d/postgres" ]; then pgbin=$d; break; fi
		done
	fi
	[ -n "$pgbin" ] || die "PostgreSQL server binaries not found (no \`pg_config --bindir\` with initdb, no /usr/lib/postgresql/*/bin); install the postgresql package"
	psql=$pgbin/psql
	[ -x "$psql" ] || psql=$(command -v psql || true)
	[ -n "$psql" ] || die "psql not found (needed to create the databases)"
	as_pg=()
	if [ "$(id -u)" = 0 ]; then
		id postgres >/dev/null 2>&1 || die "running as root, and PostgreSQL refuses to: no \`postgres\` user to run it as"
		if command -v setpriv >/dev/null; then
			# setpriv execs, so the postmaster keeps the pid we started.
			as_pg=(setpriv --reuid="$(id -u postgres)" --regid="$(id -g postgres)" --clear-groups --)
		elif command -v runuser >/dev/null; then
			as_pg=(runuser -u postgres --)
		else
			die "running as root and neither setpriv nor runuser is available to run postgres as the postgres user"
		fi
	fi
}

# pg_start WORKDIR [EXTRA-FLAGS...]: initdb into WORKDIR/pg/data and start
# postgres on a free 127.0.0.1 port with fsync on (logs in WORKDIR). Sets
# pg_port, pg_pid (the postmaster) and pg_launcher (the pid started). Call
# pg_find first, and pg_stop on exit.
pg_launcher=""
pg_pid=""
pg_start() {
	local tmp=$1 i
	shift
	local pgdir=$tmp/pg
	mkdir -p "$pgdir"
	if [ "${#as_pg[@]}" -gt 0 ]; then
		chmod 711 "$tmp"
		chown postgres: "$pgdir"
	fi
	log "initdb ($pgbin) into $pgdir/data"
	(cd "$pgdir" && "${as_pg[@]}" "$pgbin/initdb" -D "$pgdir/data" -U postgres --auth=trust -E UTF8 --locale=C --no-sync) \
		>"$tmp/initdb.log" 2>&1 || { tail -n 20 "$tmp/initdb.log" >&2; die "initdb failed"; }
	pg_port=$(free_port)
	log "starting postgres on 127.0.0.1:$pg_port"
	(cd "$pgdir" && exec "${as_pg[@]}" "$pgbin/postgres" -D "$pgdir/data" -k "$pgdir" \
		-c listen_addresses=127.0.0.1 -p "$pg_port" -c fsync=on -c max_connections=200 "$@") \
		>"$tmp/postgres.log" 2>&1 &
	pg_launcher=$!
	pg_pid=$pg_launcher
	for i in $(seq 300); do
		kill -0 "$pg_launcher" 2>/dev/null || { tail -n 20 "$tmp/postgres.log" >&2; die "postgres exited during startup"; }
		if pgsql -c 'SELECT 1' >/dev/null 2>&1; then break; fi
		[ "$i" -lt 300 ] || { tail -n 20 "$tmp/postgres.log" >&2; die "postgres did not accept connections within 30s"; }
		sleep 0.1
	done
	# The postmaster's pid (differs from the launcher's if runuser forked).
	pg_pid=$(head -n 1 "$pgdir/data/postmaster.pid")
	log "postgres $(pgsql -c 'SHOW server_version') ready (postmaster pid $pg_pid)"
}

# pgsql ARGS...: psql as the superuser against the database postgres.
pgsql() { "$psql" -X -q -A -t -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"; }

# pg_stop: fast shutdown (SIGINT), escalating to SIGQUIT.
pg_stop() {
	[ -n "$pg_pid" ] || return 0
	if kill -0 "$pg_pid" 2>/dev/null; then
		kill -INT "$pg_pid" 2>/dev/null || true
		local i
		for i in $(seq 150); do
			kill -0 "$pg_pid" 2>/dev/null || break
			sleep 0.1
		done
		stop_pid postgres "$pg_pid" 10 QUIT
	fi
	[ -z "$pg_launcher" ] || wait "$pg_launcher" 2>/dev/null || true
	pg_pid=""
	pg_launcher=""
}

# build_binaries DIR: sealpost (or a copy of $SEALPOST_BIN, to measure a
# given build) and sealbench into DIR.
build_binaries() {
	log "building sealpost and sealbench into $1"
	if [ -n "${SEALPOST_BIN:-}" ]; then
		cp "$SEALPOST_BIN" "$1/sealpost"
	else
		go build -o "$1/sealpost" ./cmd/sealpost || die "building ./cmd/sealpost failed"
	fi
	go build -o "$1/sealbench" ./cmd/sealbench || die "building ./cmd/sealbench failed"
}
