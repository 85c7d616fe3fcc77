#!/usr/bin/env bash
# Recipe 2 — aggregation on the source side: one collector per host. Containers and apps send
# to `logkit receive` on localhost (Docker: `--log-driver fluentd --log-opt
# fluentd-address=127.0.0.1:24224 --log-opt tag=docker.{{.Name}}`), and the collector forwards
# everything to the aggregator over one connection, with acknowledgements and retries.
#
#     container web ─┐
#     container api ─┼─▶ logkit receive --bind 127.0.0.1:24224 | logkit forward agg:24224   (collector, per host)
#     container db  ─┘                                              │
#                                 logkit receive | logkit store file ◀┘                        (aggregator)
#
# Every container's connection comes from the Docker daemon's one address: the collector takes
# --max-connections-per-ip of them (default --max-connections / 8 = 128); a host with more
# containers raises it. The aggregator runs with AGGREGATOR_LIMITS (lib.sh; docs/limits.md).
#
# Here three "containers" send Docker-driver-shaped records with npm fluent-logger (Message
# mode). usage: examples/recipe-source-aggregation.sh [EVENTS_PER_CONTAINER]   (default 1000)
set -euo pipefail
RECIPE=recipe-source-aggregation
source "$(dirname "$0")/lib.sh"
EVENTS=${1:-1000}
CONTAINERS=(web api db)

# the aggregator
aggregator_into aggregator store file "$WORK/logs/\${tag}.ndjson" --flush-interval 200ms
AGGREGATOR=127.0.0.1:$PORT
say "aggregator: logkit run 'receive --bind $AGGREGATOR | store file $WORK/logs/\${tag}.ndjson'"

# the host's collector
receive_into collector forward "$AGGREGATOR" --flush-interval 0.05
COLLECTOR_PID=$RECEIVE_PID
say "collector:  logkit run 'receive --bind 127.0.0.1:$PORT | forward $AGGREGATOR'"

# the containers, all at once
apps=()
for name in "${CONTAINERS[@]}"; do
  node "$ROOT/examples/apps/fluent-app.mjs" "$PORT" "docker.$name" "$EVENTS" --docker "$name" > /dev/null 2> "$WORK/app-$name.err" & apps+=($!)
done
for pid in "${apps[@]}"; do wait "$pid" || die "a container's logger failed"; done

total=$((EVENTS * ${#CONTAINERS[@]}))
wait_stored "$total" "$WORK/logs"
kill -TERM "$COLLECTOR_PID"; wait "$COLLECTOR_PID" || die "the collector's receive exited non-zero"
summary="sent=$total"
missing=0
for name in "${CONTAINERS[@]}"; do
  have=$(distinct_count "$WORK/logs/docker.$name.ndjson")
  summary+=" docker.$name=$have"
  missing=$((missing + EVENTS - have))
done
say "$summary stored=$(stored_count "$WORK/logs") missing=$missing"
[ "$missing" -eq 0 ] || die "$missing events missing"
say OK
