#!/bin/bash
# First start of the replica only (mounted in /docker-entrypoint-initdb.d): points it at the primary with GTID
# auto-positioning, starts replication and makes the server read-only for everyone, SUPER included. The hap and
# repl accounts arrive from the primary's binary log; none are created here (that would break replication).
# docker-compose.yml starts this container only once the primary is healthy.
(
  set -euo pipefail
  for name in MYSQL_REPLICATION_PASSWORD MYSQL_ROOT_PASSWORD; do
    value=${!name:-}
    if [[ ! $value =~ ^[A-Za-z0-9]{12,}$ ]]; then
      echo "replica-init: $name must be at least 12 letters and digits (e.g. openssl rand -hex 24)" >&2
      exit 1
    fi
  done
  source_host=${MYSQL_SOURCE_HOST:-mysql-primary}

  for _ in $(seq 1 60); do
    mysqladmin --host="$source_host" --connect-timeout=2 ping >/dev/null 2>&1 && break
    echo "replica-init: waiting for $source_host"
    sleep 2
  done

  mysql --defaults-extra-file=<(printf '[client]\nuser=root\npassword="%s"\n' "$MYSQL_ROOT_PASSWORD") \
        --protocol=socket <<SQL
CHANGE REPLICATION SOURCE TO
  SOURCE_HOST = '${source_host}',
  SOURCE_PORT = 3306,
  SOURCE_USER = 'repl',
  SOURCE_PASSWORD = '${MYSQL_REPLICATION_PASSWORD}',
  SOURCE_AUTO_POSITION = 1,
  SOURCE_SSL = 1,
  GET_SOURCE_PUBLIC_KEY = 1,
  SOURCE_CONNECT_RETRY = 10,
  SOURCE_RETRY_COUNT = 86400;
START REPLICA;
SET PERSIST read_only = ON;
SET PERSIST super_read_only = ON;
SQL
  echo "replica-init: replicating from $source_host (GTID auto-position), read-only"
)
