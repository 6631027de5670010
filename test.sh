#!/usr/bin/env bash
# Runs the whole test suite: installs what the tests need when it is missing, starts throwaway servers on loopback
# for the server-backed tests, runs `dotnet test`, stops the servers and prints "N passed, N failed".
# Plain `dotnet test` works too; tests whose server is not available report themselves skipped.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
results="$here/artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"

log() { printf '[test.sh] %s\n' "$*" >&2; }

apt_updated=""
apt_install() {
  # Installs Debian packages once per run of this script; needs root (as on CI and the dev machines here).
  if [ -z "$apt_updated" ]; then apt-get update -qq >/dev/null 2>&1 || true; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1
}

cleanup_actions=()
cleanup() { for action in "${cleanup_actions[@]}"; do eval "$action" || true; done; }
trap cleanup EXIT

# Servers: each ensure_* function installs its server when missing, starts it on loopback and exports the
# variable the tests look for. Later issues add PostgreSQL, s3rver and Chromium here; the backbone needs none.
servers=()
for server in "${servers[@]}"; do "ensure_$server"; done

if ! command -v dotnet >/dev/null 2>&1; then
  log "the .NET 10 SDK is needed (dotnet not found on PATH)"
  echo "0 passed, 1 failed"
  exit 1
fi

log "dotnet test"
dotnet test "$here/Millrace.sln" --nologo -v quiet --logger "trx" --results-directory "$results" 2>&1 | tee "$results/dotnet-test.log"
status=${PIPESTATUS[0]}

# Count from the TRX files (one per test project): <Counters total=".." executed=".." passed=".." failed=".." ...>
passed=0; failed=0; skipped=0
counter() { grep -o "<Counters [^>]*" "$1" | grep -o " $2=\"[0-9]*\"" | grep -o "[0-9]*" || echo 0; }
for trx in $(find "$results" -name '*.trx' 2>/dev/null); do
  passed=$((passed + $(counter "$trx" passed)))
  failed=$((failed + $(counter "$trx" failed) + $(counter "$trx" error)))
  skipped=$((skipped + $(counter "$trx" notExecuted)))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  log "dotnet test exited with $status (build error or crashed test host; see $results/dotnet-test.log)"
  failed=$((failed + 1))
fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
