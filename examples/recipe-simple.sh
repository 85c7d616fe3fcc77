#!/usr/bin/env bash
# Recipe 1 — simple forwarding: the application's logger library sends straight to one
# aggregator, which stores the events in files per tag.
#
#     app (npm fluent-logger) ──▶ logkit run 'receive | store file logs/${tag}.ndjson'
#
# On real hosts: `logkit run "receive --bind 0.0.0.0:24224 --shared-key $KEY $AGGREGATOR_LIMITS | store file ..."`
# (or the same as a shell pipeline of two logkit commands)
# on the aggregator, and the app's logger pointed at it (AGGREGATOR_LIMITS, in lib.sh, bounds what
# one client may hold: docs/limits.md). Here everything runs on 127.0.0.1, on an ephemeral port. usage: examples/recipe-simple.sh [EVENTS]   (default 2000)
set -euo pipefail
RECIPE=recipe-simple
source "$(dirname "$0")/lib.sh"
EVENTS=${1:-2000}

# the aggregator
aggregator_into aggregator store file "$WORK/logs/\${tag}.ndjson" --flush-interval 200ms
say "aggregator: logkit run 'receive --bind 127.0.0.1:$PORT | store file $WORK/logs/\${tag}.ndjson'"

# the application
node "$ROOT/examples/apps/fluent-app.mjs" "$PORT" app.web "$EVENTS" > "$WORK/app.log" 2> "$WORK/app.err" || die "the app failed"

wait_stored "$EVENTS" "$WORK/logs"
kill -TERM "$RECEIVE_PID"; wait "$RECEIVE_PID" || die "receive exited non-zero"
stored=$(stored_count "$WORK/logs")
distinct=$(distinct_count "$WORK/logs/app.web.ndjson")
missing=$((EVENTS - distinct))
say "sent=$EVENTS stored=$stored missing=$missing"
[ "$missing" -eq 0 ] || die "$missing events missing"
say OK
