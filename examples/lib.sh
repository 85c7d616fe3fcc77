# Helpers shared by the recipe scripts (sourced, not run). The recipes run the logkit of this
# repository (bin/logkit.js, built by `npm ci`); set LOGKIT_BIN to use another one.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOGKIT_BIN=${LOGKIT_BIN:-$ROOT/bin/logkit.js}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/logkit-recipe.XXXXXX")
PIDS=()
TIMEOUT=${LOGKIT_RECIPE_TIMEOUT:-120}

logkit() { node "$LOGKIT_BIN" "$@"; }
say() { echo "$RECIPE: $*"; }
die() { say "FAILED: $*" >&2; for f in "$WORK"/*.err; do [ -s "$f" ] && { echo "--- $f" >&2; tail -5 "$f" >&2; }; done; exit 1; }

cleanup() {
  { for pid in "${PIDS[@]}"; do kill -9 "$pid" && wait "$pid"; done; } 2>/dev/null || true
  if [ -n "${LOGKIT_RECIPE_KEEP:-}" ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The port of a `logkit receive --bind 127.0.0.1:0` from its start-up line in FILE.
listening_port() {
  local file=$1 port="" waited=0
  while [ -z "$port" ]; do
    port=$(sed -n 's/.*listening on \(tcp:\/\/\)\{0,1\}127\.0\.0\.1:\([0-9]*\).*/\2/p' "$file" 2>/dev/null | head -1)
    [ -n "$port" ] && break
    sleep 0.1; waited=$((waited + 1))
    [ $waited -lt $((TIMEOUT * 10)) ] || die "no listening line in $file"
  done
  echo "$port"
}

# The chain `receive --bind 127.0.0.1:0 | ARGS...` in one process (`logkit run`): SIGTERM stops
# receive, and the stage after it takes what receive let out, finishes and exits 0. The ARGS are
# quoted into the chain as the shell would need them (logkit run splits the chain the same way).
# receive also gets the options in RECEIVE_OPTIONS. Sets RECEIVE_PID and PORT.
RECEIVE_OPTIONS=()
receive_into() {
  local name=$1; shift
  local options=""
  ((${#RECEIVE_OPTIONS[@]})) && options=$(printf '%q ' "${RECEIVE_OPTIONS[@]}")
  node "$LOGKIT_BIN" run "receive --bind 127.0.0.1:0 $options| $(printf '%q ' "$@")" > /dev/null 2> "$WORK/$name.err" & RECEIVE_PID=$!; PIDS+=($!)
  PORT=$(listening_port "$WORK/$name.err")
}

# receive's limits for an aggregator whose port is reachable beyond loopback (docs/limits.md): the
# recipes' aggregators run with them as they would on real hosts (with a shared key or TLS there).
AGGREGATOR_LIMITS=(--max-connections-per-ip 64 --handshake-timeout 10 --request-timeout 60 --max-auth-backoff 60 --max-chunk-bytes 16777216 --max-buffered-bytes 268435456)

# receive_into for an aggregator: the same, with AGGREGATOR_LIMITS.
aggregator_into() {
  RECEIVE_OPTIONS=("${AGGREGATOR_LIMITS[@]}")
  receive_into "$@"
  RECEIVE_OPTIONS=()
}

# Events stored under DIR (one NDJSON line each), and how many distinct (app, seq) pairs.
stored_count() { { cat "$1"/*.ndjson 2>/dev/null || true; } | wc -l | tr -d ' '; }
distinct_count() { { cat "$@" 2>/dev/null || true; } | { grep -o '"app":"[^"]*"\|"seq":[0-9]*' || true; } | paste -d' ' - - | sort -u | wc -l | tr -d ' '; }

# Waits until the DIRs together hold at least N events.
wait_stored() {
  local want=$1; shift
  local waited=0 have
  for (( ; ; )); do
    have=0
    for dir in "$@"; do have=$((have + $(stored_count "$dir"))); done
    [ "$have" -ge "$want" ] && return 0
    sleep 0.2; waited=$((waited + 1))
    [ $waited -lt $((TIMEOUT * 5)) ] || die "only $have of $want events stored after ${TIMEOUT} s"
  done
}
