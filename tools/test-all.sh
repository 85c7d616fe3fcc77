#!/usr/bin/env bash
# `npm run test:all`: the whole test suite on a fresh machine, as CI runs it. Installs the Debian
# packages the tests need (as root; otherwise it prints the command), starts PostgreSQL, MariaDB
# and ClickHouse without systemd (idempotent: running servers are left alone), runs `npm test`,
# and ends with the line "N passed, N failed" (", N skipped" when any). Exit status: npm test's.
set -uo pipefail
cd "$(dirname "$0")/.."
say() { echo "[test:all] $*"; }
fail_setup() { say "$1"; echo "0 passed, 1 failed"; exit 1; }

bash tools/test-env/install-packages.sh || fail_setup "system packages missing"
bash tools/test-env/start-databases.sh || fail_setup "PostgreSQL/MariaDB setup failed"
clickhouse_env=$(bash tools/test-env/start-clickhouse.sh) || fail_setup "ClickHouse did not start"
eval "$clickhouse_env" # exports LOGKIT_CLICKHOUSE_URL (a free port chosen at start)
say "ClickHouse at $LOGKIT_CLICKHOUSE_URL"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
npm test 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

count() { grep -Eo "^ *([0-9]+) (tests?|known failures?) $1" "$log" | grep -Eo '[0-9]+' | tail -1; }
passed=$(count passed); failed=$(count failed); skipped=$(count skipped)
# with failures, ava's summary leaves out the passed count: count the passed tests' marks instead
[ -z "$passed" ] && passed=$(grep -cE '^ *✔ ' "$log")
passed=${passed:-0}; failed=${failed:-0}; skipped=${skipped:-0}
# a crash, an uncaught exception or a timeout is a failure even when no test said so
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line+=", $skipped skipped"
echo "$line"
exit "$status"
