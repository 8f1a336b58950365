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
# The rest runs as four jobs side by side: the end-to-end tests mostly wait
# on processes (the server, the aws CLI, Terraform's provider, which sleeps
# ~25 s after every queue change), so they overlap well with the CPU-bound
# race pass.
#  1. e2e, the slow real-client tests (Terraform, the aws CLI scripts), on the
#     default embedded store;
#  2. e2e, everything else, on the embedded store;
#  3. e2e, the tests that must hold on both drivers, on PostgreSQL (the tests
#     start a throwaway PostgreSQL);
#  4. in front: the SNS, KMS, SQS and delivery suites on PostgreSQL, then
#     every package but e2e with the race detector. The e2e tests drive the
#     real binary (built without -race) from outside, so the race detector
#     would only watch their client code.
slow='TestSSETerraform|TestAWSCLI|TestKMSAWSCLI|TestSSEAWSCLI|TestSQSAWSCLI'
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
go test -count=1 -timeout 20m -run "$slow" ./e2e >"$logs/e2e-slow" 2>&1 &
slowpid=$!
go test -count=1 -timeout 20m -skip "$slow" ./e2e >"$logs/e2e-rest" 2>&1 &
restpid=$!
SEALPOST_TEST_STORE=postgres go test -count=1 -timeout 20m -run 'TestBoto3|TestCrashLoop|TestWrongRootKeyRefusesStart|TestKMSKeysSurviveRestartAndTamper|TestSSE|TestSQSPlaintextScan|TestSQSCrashLoop' -skip 'TestSSETerraform|TestSSEAWSCLI' ./e2e >"$logs/e2e-pg" 2>&1 &
pgpid=$!
fail=0
SEALPOST_TEST_STORE=postgres go test -count=1 -timeout 10m ./internal/server ./internal/delivery ./internal/sqs || fail=1
CGO_ENABLED=1 go test -race -count=1 -timeout 20m $(go list ./... | grep -v '/e2e$') || fail=1
for job in slow:$slowpid rest:$restpid pg:$pgpid; do
  wait "${job#*:}" || fail=1
  echo "--- e2e (${job%%:*})"
  cat "$logs/e2e-${job%%:*}"
done
exit "$fail"
