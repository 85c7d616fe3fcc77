#!/usr/bin/env bash
# Recipe 3 — aggregation on both sides, scaled out: a collector on every host forwards to
# several aggregators by weighted round-robin (agg-a gets two chunks for every one to agg-b),
# with a standby aggregator used only while every primary is down (failover).
#
#     host 1: apps ─▶ logkit receive | logkit forward agg-a:24224@2 agg-b:24224@1 --standby agg-c:24224
#     host 2: apps ─▶ logkit receive | logkit forward agg-a:24224@2 agg-b:24224@1 --standby agg-c:24224
#     agg-a, agg-b, agg-c: logkit receive --bind 0.0.0.0:24224 --shared-key "$KEY" $AGGREGATOR_LIMITS | logkit store ...
#
# AGGREGATOR_LIMITS (lib.sh; docs/limits.md) bound what one client may hold on a port reachable
# beyond loopback: connections per address, handshake and request deadlines, key-guessing backoff.
#
# Phase 1 sends half the events with both primaries up; then agg-a and agg-b are stopped (as if
# their hosts went down) and phase 2 sends the rest, which the standby must take. Nothing may be
# missing. usage: examples/recipe-both-sides.sh [EVENTS_PER_APP]   (default 1000)
set -euo pipefail
RECIPE=recipe-both-sides
source "$(dirname "$0")/lib.sh"
EVENTS=${1:-1000}
HALF=$((EVENTS / 2))

declare -A AGG_PID
for agg in a b c; do
  aggregator_into "agg-$agg" store file "$WORK/agg-$agg/\${tag}.ndjson" --flush-interval 200ms
  AGG_PID[$agg]=$RECEIVE_PID
  eval "AGG_$agg=127.0.0.1:$PORT"
done
SERVERS=("$AGG_a@2" "$AGG_b@1" --standby "$AGG_c")
say "aggregators: agg-a=$AGG_a agg-b=$AGG_b agg-c=$AGG_c (standby)"

declare -A COLLECTOR_PORT COLLECTOR_PID
for host in 1 2; do
  receive_into "collector-$host" forward "${SERVERS[@]}" --flush-interval 0.05 --chunk-bytes 16384 --retry-max-interval 1
  COLLECTOR_PORT[$host]=$PORT; COLLECTOR_PID[$host]=$RECEIVE_PID
  say "collector $host: logkit run 'receive --bind 127.0.0.1:$PORT | forward ${SERVERS[*]}'"
done

# send(FIRST_SEQ..) — each host runs two apps; fluent-app numbers its events 0..N-1 per run,
# so each phase uses its own app names
send() {
  local phase=$1 count=$2 pids=()
  for host in 1 2; do
    for app in web api; do
      node "$ROOT/examples/apps/fluent-app.mjs" "${COLLECTOR_PORT[$host]}" "host$host.$app.$phase" "$count" > /dev/null 2> "$WORK/app-$host-$app-$phase.err" & pids+=($!)
    done
  done
  for pid in "${pids[@]}"; do wait "$pid" || die "an app failed"; done
}

# phase 1: both primaries up
send p1 "$HALF"
wait_stored $((4 * HALF)) "$WORK/agg-a" "$WORK/agg-b" "$WORK/agg-c"
a1=$(stored_count "$WORK/agg-a"); b1=$(stored_count "$WORK/agg-b"); c1=$(stored_count "$WORK/agg-c")
say "phase 1 (primaries up): agg-a=$a1 agg-b=$b1 agg-c=$c1"
[ "$c1" -eq 0 ] || die "the standby received events while the primaries were up"

# phase 2: agg-a and agg-b go down; the standby takes over
for agg in a b; do kill -TERM "${AGG_PID[$agg]}"; wait "${AGG_PID[$agg]}" || true; done
send p2 $((EVENTS - HALF))
total=$((4 * EVENTS))
waited=0
until [ "$(distinct_count "$WORK"/agg-*/*.ndjson)" -ge "$total" ]; do
  sleep 0.2; waited=$((waited + 1))
  [ $waited -lt $((TIMEOUT * 5)) ] || die "only $(distinct_count "$WORK"/agg-*/*.ndjson) of $total events stored"
done
for host in 1 2; do kill -TERM "${COLLECTOR_PID[$host]}"; wait "${COLLECTOR_PID[$host]}" || die "collector $host exited non-zero"; done
a=$(stored_count "$WORK/agg-a"); b=$(stored_count "$WORK/agg-b"); c=$(stored_count "$WORK/agg-c")
distinct=$(distinct_count "$WORK"/agg-*/*.ndjson)
missing=$((total - distinct)); duplicates=$((a + b + c - distinct))
say "sent=$total agg-a=$a agg-b=$b agg-c=$c (standby) missing=$missing duplicates=$duplicates"
[ "$c" -gt 0 ] || die "the standby received nothing after the primaries went down"
[ "$missing" -eq 0 ] || die "$missing events missing"
say OK
