# Shared helpers of the aws CLI scripts (source it; bash only).
#
# After sourcing: $STATE is a temporary directory removed on exit; each
# script defines its service call function and sets CLI to its name (e.g.
# CLI=sns) for expect_error, and TARGET (default sealpost) for skips.
# Checks run with `check NAME FUNCTION`: each in its own subshell with
# errexit, so one failing check is reported and the next one still runs;
# exit status 77 from a check means "not implemented by $TARGET" (skipped).
# `summary NAME` prints the totals and fails when any check failed.

STATE=$(mktemp -d)
trap 'rm -rf "$STATE"' EXIT
TARGET=${TARGET:-sealpost}

# save KEY VALUE / load KEY: state shared between checks.
save() { printf '%s' "$2" >"$STATE/$1"; }
load() { cat "$STATE/$1"; }

# unquote: a JSON string on stdin (as printed by --query) to raw text.
unquote() { python3 -c 'import json, sys; print(json.load(sys.stdin))'; }

# pyjson EXPR: evaluate a python expression over the JSON document on stdin,
# bound to `d`; prints the result (a string as is, anything else as JSON).
pyjson() {
	python3 -c '
import json, sys
d = json.load(sys.stdin)
r = eval(sys.argv[1])
print(r if isinstance(r, str) else json.dumps(r, sort_keys=True))
' "$1"
}

# b64d: base64 on stdin to bytes on stdout.
b64d() { python3 -c 'import base64, sys; sys.stdout.buffer.write(base64.b64decode(sys.stdin.read().strip()))'; }

# want NAME GOT EXPECTED
want() {
	if [[ $2 != "$3" ]]; then
		echo "  $1: got [$2], want [$3]" >&2
		return 1
	fi
}

# expect_error CODE ARGS...: the $CLI call must fail as a service error
# naming CODE (aws CLI v1 exits 255 on service errors, v2 254).
expect_error() {
	local code=$1 out rc=0
	shift
	out=$("$CLI" "$@" 2>&1) || rc=$?
	if [[ $rc -ne 254 && $rc -ne 255 ]]; then
		echo "  $CLI $1: want error $code, exit status $rc: $out" >&2
		return 1
	fi
	if [[ $out != *"An error occurred ($code)"* ]]; then
		echo "  $CLI $1: want \"An error occurred ($code)\", got: $out" >&2
		return 1
	fi
}

# strict: true unless the target is moto (for checks moto does not implement).
strict() { [[ $TARGET != moto ]]; }

passed=0
failed=0
skipped=0

# check NAME FUNCTION: run FUNCTION in a subshell with errexit and count it.
check() {
	local rc=0
	set +e
	(
		set -eE
		trap '[[ $? -eq 77 ]] || echo "  line $LINENO: $BASH_COMMAND" >&2' ERR
		"$2"
	)
	rc=$?
	set -e
	if [[ $rc -eq 0 ]]; then
		passed=$((passed + 1))
		echo "ok   $1"
	elif [[ $rc -eq 77 ]]; then
		skipped=$((skipped + 1))
		echo "skip $1 (not implemented by $TARGET)"
	else
		failed=$((failed + 1))
		echo "FAIL $1"
	fi
}

# summary NAME: the totals; fails when a check failed.
summary() {
	[[ $skipped -eq 0 ]] || echo "$1: $skipped check(s) relaxed for $TARGET"
	echo "$1: $passed passed, $failed failed"
	[[ $failed -eq 0 ]]
}
