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

free_port() {
  local port
  for port in $(seq "$1" $(( $1 + 200 ))); do
    (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return 0; }
  done
  return 1
}

# PostgreSQL: a throwaway cluster in a temp folder, on loopback only, stopped when the script ends.
ensure_postgres() {
  local bin data port as_postgres=()
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bin" ]; then
    log "installing postgresql"
    apt_install postgresql || { log "could not install postgresql: the PostgreSQL tests will be skipped"; return 0; }
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  fi
  data=$(mktemp -d /tmp/millrace-pg.XXXXXX)
  if [ "$(id -u)" = 0 ]; then chown postgres "$data"; as_postgres=(runuser -u postgres --); fi
  port=$(free_port 55432) || { log "no free port for PostgreSQL"; return 0; }
  if ! "${as_postgres[@]}" "$bin/initdb" -D "$data/db" -A trust -U postgres >"$data/initdb.log" 2>&1; then
    log "initdb failed (see $data/initdb.log): the PostgreSQL tests will be skipped"; return 0
  fi
  if ! "${as_postgres[@]}" "$bin/pg_ctl" -D "$data/db" -l "$data/server.log" -w \
       -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null 2>&1; then
    log "PostgreSQL did not start (see $data/server.log): its tests will be skipped"; return 0
  fi
  cleanup_actions+=("${as_postgres[*]} $bin/pg_ctl -D $data/db -m immediate stop >/dev/null 2>&1; rm -rf $data")
  export MILLRACE_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
  log "PostgreSQL $(basename "$(dirname "$bin")") on 127.0.0.1:$port"
}

# Chromium: Debian's browser for the web UI's browser tests (Playwright drives it; its own browser download never runs).
ensure_chromium() {
  local browser=/usr/bin/chromium
  if [ ! -x "$browser" ]; then
    log "installing chromium"
    apt_install chromium fonts-dejavu-core || { log "could not install chromium: the browser tests will be skipped"; return 0; }
  fi
  [ -x "$browser" ] || { log "no $browser after installing chromium: the browser tests will be skipped"; return 0; }
  export MILLRACE_TEST_CHROMIUM="$browser" PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
  log "$("$browser" --version 2>/dev/null || echo chromium) at $browser"
}

# s3rver: an S3-compatible server (npm) for the S3 lake tests, installed into .tools/ when missing, on loopback with
# its data in a temp folder; its default credentials are S3RVER/S3RVER.
ensure_s3rver() {
  local bin="$here/.tools/s3rver/node_modules/.bin/s3rver" data port pid
  if [ ! -x "$bin" ]; then
    command -v npm >/dev/null 2>&1 || { log "no npm: the S3 lake tests will be skipped"; return 0; }
    log "installing s3rver into .tools/s3rver"
    npm install --prefix "$here/.tools/s3rver" --no-audit --no-fund s3rver@3 >/dev/null 2>&1 \
      || { log "could not install s3rver: the S3 lake tests will be skipped"; return 0; }
  fi
  data=$(mktemp -d /tmp/millrace-s3.XXXXXX)
  port=$(free_port 54568) || { log "no free port for s3rver"; return 0; }
  "$bin" --directory "$data" --address 127.0.0.1 --port "$port" --silent >"$data.log" 2>&1 &
  pid=$!
  cleanup_actions+=("kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf $data $data.log")
  for _ in $(seq 1 50); do
    (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { log "s3rver exited (see $data.log): the S3 lake tests will be skipped"; return 0; }
    sleep 0.2
  done
  export MILLRACE_TEST_S3="http://127.0.0.1:$port"
  log "s3rver on 127.0.0.1:$port"
}

# Fonts: report charts draw their text in DejaVu Sans; without it ScottPlot draws no text and the report step fails.
if ! fc-list 2>/dev/null | grep -q "DejaVu Sans" && [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then
  log "installing fonts-dejavu-core (chart text)"
  apt_install fonts-dejavu-core || log "could not install fonts-dejavu-core: the report tests will fail"
fi

# Servers: each ensure_* function installs its server when missing, starts it on loopback and exports the
# variable its tests look for; tests whose server is missing report themselves skipped.
servers=(postgres chromium s3rver)
for server in "${servers[@]}"; do "ensure_$server"; done

if ! command -v dotnet >/dev/null 2>&1; then
  log "the .NET 10 SDK is needed (dotnet not found on PATH)"
  echo "0 passed, 1 failed"
  exit 1
fi

log "dotnet test"
# MILLRACE_TEST_FILTER runs a subset with the servers up (e.g. MILLRACE_TEST_FILTER=FullyQualifiedName~Landing ./test.sh).
filter=()
[ -n "${MILLRACE_TEST_FILTER:-}" ] && filter=(--filter "$MILLRACE_TEST_FILTER")
dotnet test "$here/Millrace.sln" --nologo -v quiet --logger "trx" --results-directory "$results" "${filter[@]}" 2>&1 | tee "$results/dotnet-test.log"
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
# The security section of the suite: the tests of the Security category (docs/security.md), counted on their own.
if command -v python3 >/dev/null 2>&1; then
  names="$results/security-tests.txt"
  : >"$names"
  for project in tests/*/*.Tests.csproj; do
    dotnet test "$project" --no-build --nologo --list-tests --filter "Category=Security" 2>/dev/null >>"$names" || true
  done
  trx_files=$(find "$results" -name '*.trx' 2>/dev/null)
  [ -n "$trx_files" ] && python3 "$here/.ci/security-count.py" "$names" $trx_files >&2
fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
