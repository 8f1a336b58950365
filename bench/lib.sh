# Helpers shared by bench/compare.sh and bench/scaleout.sh (sourced, not run).
# The sourcing script sets `script` (its name, for messages) first.

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "$script: $*" >&2; exit 1; }
log() { echo "$script: $*" >&2; }

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
