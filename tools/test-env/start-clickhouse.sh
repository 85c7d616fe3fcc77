#!/usr/bin/env bash
# Starts a private ClickHouse server for the tests, without systemd, and prints its HTTP URL.
# Idempotent: when the server recorded in $CH_DIR answers, it just prints its URL again.
# Listens on 127.0.0.1 only, on free ports chosen at start; data lives in $CH_DIR.
#   usage: eval "$(tools/test-env/start-clickhouse.sh)"   # exports LOGKIT_CLICKHOUSE_URL
#          tools/test-env/start-clickhouse.sh restart         # stops the server and starts it again on the same ports
set -euo pipefail
CH_DIR=${CH_DIR:-/tmp/logkit-clickhouse}
server=$(command -v clickhouse-server || echo /usr/bin/clickhouse-server)
[ -x "$server" ] || { echo "start-clickhouse: clickhouse-server is not installed" >&2; exit 1; }
mkdir -p "$CH_DIR"/{data,tmp,user_files,log}

# a busy machine can be slow to answer: three tries before a server counts as gone
answers() { for _ in 1 2 3; do curl -fsS --max-time 5 "http://127.0.0.1:$1/ping" 2>/dev/null | grep -q Ok && return 0; sleep 0.3; done; return 1; }

start_server() {
  nohup "$server" --config-file="$CH_DIR/config.xml" >"$CH_DIR/log/stdout.log" 2>&1 </dev/null &
  echo $! >"$CH_DIR/pid"
  for _ in $(seq 1 120); do
    if answers "$(cat "$CH_DIR/http_port")"; then echo "export LOGKIT_CLICKHOUSE_URL=http://127.0.0.1:$(cat "$CH_DIR/http_port")/"; exit 0; fi
    kill -0 "$(cat "$CH_DIR/pid")" 2>/dev/null || break
    sleep 0.5
  done
  echo "start-clickhouse: the server did not come up; its log:" >&2
  tail -20 "$CH_DIR/log/stdout.log" "$CH_DIR/log/error.log" >&2 2>/dev/null || true
  exit 1
}

if [ "${1:-}" = restart ] && [ -f "$CH_DIR/config.xml" ]; then
  pid=$(cat "$CH_DIR/pid" 2>/dev/null || echo)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  start_server
fi

if [ -f "$CH_DIR/http_port" ] && answers "$(cat "$CH_DIR/http_port")"; then
  echo "export LOGKIT_CLICKHOUSE_URL=http://127.0.0.1:$(cat "$CH_DIR/http_port")/"
  exit 0
fi
# a stale server of ours (its port taken over, or hung): stop it before starting afresh
if [ -f "$CH_DIR/pid" ] && kill -0 "$(cat "$CH_DIR/pid")" 2>/dev/null; then
  kill "$(cat "$CH_DIR/pid")" 2>/dev/null || true; sleep 2
fi

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
http_port=$(free_port); tcp_port=$(free_port)
while [ "$tcp_port" = "$http_port" ]; do tcp_port=$(free_port); done

cat >"$CH_DIR/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$CH_DIR/log/server.log</log><errorlog>$CH_DIR/log/error.log</errorlog><size>100M</size><count>2</count></logger>
  <http_port>$http_port</http_port>
  <tcp_port>$tcp_port</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>$CH_DIR/data/</path>
  <tmp_path>$CH_DIR/tmp/</tmp_path>
  <user_files_path>$CH_DIR/user_files/</user_files_path>
  <users_config>$CH_DIR/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries>
</yandex>
XML
cat >"$CH_DIR/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
XML
echo "$http_port" >"$CH_DIR/http_port"
start_server
