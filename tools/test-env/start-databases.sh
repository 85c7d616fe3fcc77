#!/usr/bin/env bash
# Ensures the databases the store tests use are installed, configured and running, without
# systemd; idempotent (a running, configured server is left alone):
#   PostgreSQL on 127.0.0.1:5432, trust authentication, database test
#   MariaDB    on 127.0.0.1:3306, user root without password, database test
set -uo pipefail
say() { echo "[ci] $*" >&2; }
export DEBIAN_FRONTEND=noninteractive

need=()
command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql postgresql-client)
[ -x /usr/sbin/mariadbd ] || need+=(mariadb-server mariadb-client)
if ((${#need[@]})); then
  say "installing ${need[*]}"
  apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null || { say "apt-get install ${need[*]} failed"; exit 1; }
fi

# --- PostgreSQL ------------------------------------------------------------------------------
ver=$(ls /etc/postgresql | sort -V | tail -1)
hba=/etc/postgresql/$ver/main/pg_hba.conf
if ! grep -Eq '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba"; then
  # first match wins in pg_hba.conf: put the test rules on top
  sed -i '1i host all all 127.0.0.1/32 trust\nlocal all all trust' "$hba"
  pg_isready -q -h 127.0.0.1 -p 5432 && pg_ctlcluster --skip-systemctl-redirect "$ver" main reload
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  say "starting PostgreSQL $ver"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  for _ in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
fi
pg_isready -q -h 127.0.0.1 -p 5432 || { say "PostgreSQL is not up"; exit 1; }
psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 \
  || createdb -h 127.0.0.1 -U postgres test || { say "cannot create the PostgreSQL database test"; exit 1; }

# --- MariaDB ---------------------------------------------------------------------------------
if ! mariadb -h 127.0.0.1 -u root -e 'select 1' >/dev/null 2>&1; then
  if ! mariadb-admin ping >/dev/null 2>&1; then
    say "starting MariaDB"
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
    for _ in $(seq 1 60); do mariadb-admin ping >/dev/null 2>&1 && break; sleep 0.5; done
  fi
  # root over TCP without a password (Debian's root uses the unix socket only)
  mariadb -e "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
              GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
              ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket;
              FLUSH PRIVILEGES;" 2>/dev/null || true
fi
mariadb -h 127.0.0.1 -u root -e 'CREATE DATABASE IF NOT EXISTS test' || { say "MariaDB is not reachable as root@127.0.0.1"; exit 1; }
