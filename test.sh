#!/usr/bin/env bash
# The test command: every Go test (unit, API through aws-sdk-go-v2,
# conformance on the embedded store and on a PostgreSQL the tests start,
# end-to-end through the aws CLI and boto3, crash tests), plus a short run of
# every fuzz target.
set -euo pipefail
cd "$(dirname "$0")"
go vet ./...
go test -count=1 -timeout 20m ./...
# Fuzz each parser briefly (seed corpus plus a few seconds of new inputs).
FUZZTIME=${FUZZTIME:-5s}
for pkg in $(go list ./...); do
  for target in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
    echo "fuzz $pkg $target ($FUZZTIME)"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg" >/dev/null
  done
done
echo "fuzz: all targets passed"
