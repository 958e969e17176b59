#!/bin/sh
# Starts one Redis data node (redis-master or redis-replica) with a config generated here, at every start.
#
# The role comes from the Sentinels when any of them answers: after a failover the old master must come back as a
# replica of the promoted one, not as a second master. When no Sentinel answers (the very first start, or
# everything restarting together) the node named REDIS_DEFAULT_MASTER is the master and the other replicates it.
# Nodes announce their service name, not their container IP, so addresses stay valid across container restarts.
set -eu

: "${REDIS_PASSWORD:?REDIS_PASSWORD is not set}"
: "${REDIS_ANNOUNCE_HOST:?REDIS_ANNOUNCE_HOST, the service name of this node, is not set}"
default_master=${REDIS_DEFAULT_MASTER:-redis-master}
master_name=${REDIS_MASTER_NAME:-hapredis}
sentinels=${REDIS_SENTINEL_HOSTS:-sentinel-1 sentinel-2 sentinel-3}

case $REDIS_PASSWORD in
  *[!A-Za-z0-9]*) echo "start-redis: REDIS_PASSWORD must be letters and digits only" >&2; exit 1 ;;
esac
if [ "${#REDIS_PASSWORD}" -lt 12 ]; then echo "start-redis: REDIS_PASSWORD is too short (12+)" >&2; exit 1; fi

master=
for sentinel in $sentinels; do
  master=$(timeout 3 redis-cli -h "$sentinel" -p 26379 --raw SENTINEL get-master-addr-by-name "$master_name" \
             2>/dev/null | head -n 1) || master=
  [ -n "$master" ] && break
done
master=${master:-$default_master}

conf=/data/redis.conf
{
  echo "include /usr/local/etc/redis/redis.conf"
  echo "requirepass $REDIS_PASSWORD"
  echo "masterauth $REDIS_PASSWORD"
  echo "replica-announce-ip $REDIS_ANNOUNCE_HOST"
  if [ "$master" != "$REDIS_ANNOUNCE_HOST" ]; then echo "replicaof $master 6379"; fi
} > "$conf"

if [ "$master" = "$REDIS_ANNOUNCE_HOST" ]; then
  echo "start-redis: $REDIS_ANNOUNCE_HOST starts as master"
else
  echo "start-redis: $REDIS_ANNOUNCE_HOST starts as a replica of $master"
fi
# The image's entrypoint hands /data to the redis user and drops root before starting the server.
exec docker-entrypoint.sh redis-server "$conf"
