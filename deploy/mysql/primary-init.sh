#!/bin/bash
# First start of the primary only (mounted in /docker-entrypoint-initdb.d, run by the image's entrypoint while the
# temporary, socket-only server is up): creates the platform's accounts. These statements are written to the
# binary log, so the replica receives the same accounts through replication.
#   hap   the platform: everything on the hap_<name> schemas (`hap migrate` creates them), nothing else, plus
#         REPLICATION CLIENT so that it can read SHOW REPLICA STATUS on the replica to measure lag.
#   repl  the replica's connection to this server.
(
  set -euo pipefail
  for name in HAP_DB_PASSWORD MYSQL_REPLICATION_PASSWORD MYSQL_ROOT_PASSWORD; do
    value=${!name:-}
    if [[ ! $value =~ ^[A-Za-z0-9]{12,}$ ]]; then
      echo "primary-init: $name must be at least 12 letters and digits (e.g. openssl rand -hex 24)" >&2
      exit 1
    fi
  done
  mysql --defaults-extra-file=<(printf '[client]\nuser=root\npassword="%s"\n' "$MYSQL_ROOT_PASSWORD") \
        --protocol=socket <<SQL
CREATE USER 'hap'@'%' IDENTIFIED BY '${HAP_DB_PASSWORD}';
GRANT ALL PRIVILEGES ON \`hap\\_%\`.* TO 'hap'@'%';
GRANT REPLICATION CLIENT ON *.* TO 'hap'@'%';
CREATE USER 'repl'@'%' IDENTIFIED BY '${MYSQL_REPLICATION_PASSWORD}';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%';
SQL
  echo "primary-init: accounts hap and repl created"
)
