#!/bin/sh
# Starts one Redis Sentinel with a config generated here, at every start: Sentinel rewrites its config file while
# it runs (epochs, known replicas and Sentinels), so the file must be writable and is never the one in the repo.
#
# Which master to monitor: the one another running Sentinel reports (it may have changed by a failover); else the
# data node that says it is master; else redis-master (the first start). Every name announced is a service name,
# so Sentinels and replicas keep their identity when a container is recreated with a new IP.
set -eu

: "${REDIS_PASSWORD:?REDIS_PASSWORD is not set}"
: "${SENTINEL_ANNOUNCE_HOST:?SENTINEL_ANNOUNCE_HOST, the service name of this Sentinel, is not set}"
master_name=${REDIS_MASTER_NAME:-hapredis}
quorum=${SENTINEL_QUORUM:-2}
peers=${SENTINEL_PEERS:-sentinel-1 sentinel-2 sentinel-3}
nodes=${REDIS_NODES:-redis-master redis-replica}

case $REDIS_PASSWORD in
  *[!A-Za-z0-9]*) echo "start-sentinel: REDIS_PASSWORD must be letters and digits only" >&2; exit 1 ;;
esac

master=
for peer in $peers; do
  [ "$peer" = "$SENTINEL_ANNOUNCE_HOST" ] && continue
  master=$(timeout 3 redis-cli -h "$peer" -p 26379 --raw SENTINEL get-master-addr-by-name "$master_name" \
             2>/dev/null | head -n 1) || master=
  [ -n "$master" ] && break
done
if [ -z "$master" ]; then
  for node in $nodes; do
    role=$(REDISCLI_AUTH=$REDIS_PASSWORD timeout 3 redis-cli -h "$node" -p 6379 --raw ROLE 2>/dev/null \
             | head -n 1) || role=
    if [ "$role" = master ]; then master=$node; break; fi
  done
fi
master=${master:-redis-master}

conf=/data/sentinel.conf
cat > "$conf" <<CONF
port 26379
protected-mode no
dir /data
sentinel resolve-hostnames yes
sentinel announce-hostnames yes
sentinel announce-ip $SENTINEL_ANNOUNCE_HOST
sentinel monitor $master_name $master 6379 $quorum
sentinel auth-pass $master_name $REDIS_PASSWORD
sentinel down-after-milliseconds $master_name 5000
sentinel failover-timeout $master_name 60000
sentinel parallel-syncs $master_name 1
CONF

echo "start-sentinel: $SENTINEL_ANNOUNCE_HOST monitors $master_name at $master:6379 (quorum $quorum)"
# `redis-server --sentinel` (not redis-sentinel) so that the image's entrypoint drops root before starting.
exec docker-entrypoint.sh redis-server "$conf" --sentinel
