#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, when any is missing: the servers of the
# store tests, the real protocol clients of the interop tests, and the tools a few tests use.
# As root it runs apt-get itself; otherwise it prints the one command to run, and fails.
set -uo pipefail
say() { echo "[test-env] $*" >&2; }

# postgresql, mariadb-server, clickhouse-server: the store tests' real servers
# python3-fluent-logger, golang-go + golang-github-fluent-fluent-logger-golang-dev: real clients of receive
# openssl: TLS certificates; curl: ClickHouse's HTTP API; systemd: systemd-analyze verifies examples/systemd
# mount: the disk-full test mounts a small tmpfs; time, procps: the benchmark smoke test; bsdutils: script(1)
# for the progress-line test; man-db: the man pages are checked with man(1)
packages=(
  postgresql postgresql-client mariadb-server mariadb-client clickhouse-server clickhouse-client
  python3-fluent-logger golang-go golang-github-fluent-fluent-logger-golang-dev
  openssl curl systemd mount time procps bsdutils man-db
)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
((${#missing[@]})) || exit 0

if [ "$(id -u)" -ne 0 ]; then
  say "the tests need these Debian packages; install them, then run the tests again:"
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
say "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null || { say "apt-get install failed"; exit 1; }
