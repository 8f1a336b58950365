#!/usr/bin/env bash
# The test command: every Go test (unit, API through aws-sdk-go-v2,
# conformance on the embedded store and on a PostgreSQL the tests start,
# end-to-end through the aws CLI and boto3, crash tests), plus a short run of
# every fuzz target.
set -euo pipefail
cd "$(dirname "$0")"
# Without cgo, as the release binary is built (static; README "Building"):
# pebble then uses the pure-Go zstd instead of compiling DataDog/zstd's C
# again for every build configuration (each fuzz target, -race, e2e's binary).
# The race detector needs cgo on linux; with the tag pebblegozstd, pebble
# keeps the pure-Go zstd there too, so no build compiles that C code.
export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-tags=pebblegozstd"
go vet ./...
# Fuzz each parser briefly: its seed corpus plus FUZZTIME new inputs. A count
# (not a duration) avoids the fuzzer's own "context deadline exceeded" when
# gathering baseline coverage outlasts a short duration on a busy machine.
FUZZTIME=${FUZZTIME:-5000x}
for pkg in $(go list ./...); do
  for target in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
    echo "fuzz $pkg $target ($FUZZTIME)"
    for try in 1 2; do
      if out=$(go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg" 2>&1); then
        break
      fi
      # Retry only the fuzzer's own timeout, never a failing input.
      if [ "$try" = 1 ] && ! grep -q 'Failing input\|testdata/fuzz' <<<"$out" && grep -q 'context deadline exceeded' <<<"$out"; then
        echo "  (fuzzer timeout, retrying once)"
        continue
      fi
      echo "$out"; exit 1
    done
  done
done
# The SNS, KMS and delivery suites once more, on the PostgreSQL store (the
# tests start a throwaway PostgreSQL).
SEALPOST_TEST_STORE=postgres go test -count=1 -timeout 10m ./internal/server ./internal/delivery
SEALPOST_TEST_STORE=postgres go test -count=1 -timeout 10m -run 'TestBoto3|TestCrashLoop|TestWrongRootKeyRefusesStart|TestKMSKeysSurviveRestartAndTamper|TestSSE|TestSQSBoto3|TestSQSPlaintextScan|TestSQSCrashLoop' -skip 'TestSSETerraform|TestSSEAWSCLI' ./e2e
# Everything, on the default embedded store; PostgreSQL-only tests (driver
# conformance, scale-out) start their own server. The e2e tests drive the
# real binary (built without -race) from outside, so the race detector would
# only watch their client code: they run without it, beside the race pass
# (they mostly wait on processes: the server, the aws CLI, Terraform).
e2elog=$(mktemp)
go test -count=1 -timeout 20m ./e2e >"$e2elog" 2>&1 &
e2epid=$!
race=0
CGO_ENABLED=1 go test -race -count=1 -timeout 20m $(go list ./... | grep -v '/e2e$') || race=$?
e2e=0
wait "$e2epid" || e2e=$?
cat "$e2elog"
rm -f "$e2elog"
[ "$race" = 0 ] && [ "$e2e" = 0 ]
