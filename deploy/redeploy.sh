#!/usr/bin/env bash
# Rolling redeploy of one component, without a failed request (ARCHITECTURE §10):
#
#   deploy/redeploy.sh SERVICE          SERVICE: oms hms tms dbs dms sms pms, or gateway
#
# Build the new image first (docker compose ... build SERVICE) and run `migrate` when the release has migrations.
# Then, for as many instances as are running now:
#   1. start that many new instances from the new image beside the old ones (scale to twice the count);
#   2. wait until each new one is healthy and, for the seven services, passing in Consul, so that callers
#      (the gateway and other services) already route to it; a new instance that never gets there is removed
#      again and the old ones are left untouched;
#   3. stop the old ones with SIGTERM: each deregisters from Consul, answers /health with 503, keeps serving for
#      HAP_DRAIN_SECONDS so that callers' watches drop it, finishes its in-flight requests and exits.
# Environment: HAP_ENV_FILE (default deploy/.env), HAP_REDEPLOY_TIMEOUT seconds (default 180).
set -euo pipefail

svc=${1:?usage: deploy/redeploy.sh SERVICE (oms hms tms dbs dms sms pms gateway)}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
compose=(docker compose -f "$here/docker-compose.yml" --env-file "${HAP_ENV_FILE:-$here/.env}")
timeout=${HAP_REDEPLOY_TIMEOUT:-180}
stop_timeout=60   # >= stop_grace_period in docker-compose.yml

case $svc in
  oms | hms | tms | dbs | dms | sms | pms) registered=1 ;;
  gateway) registered=0 ;;
  *) echo "redeploy: '$svc' is not one of oms hms tms dbs dms sms pms gateway" >&2; exit 2 ;;
esac

say() { echo "redeploy $svc: $*"; }

mapfile -t old < <("${compose[@]}" ps -q "$svc")
count=${#old[@]}
if ((count == 0)); then
  echo "redeploy: no running $svc instance; start it with: docker compose ... up -d $svc" >&2
  exit 1
fi

say "starting $count new instance(s) beside the $count running"
"${compose[@]}" up -d --no-deps --no-recreate --scale "$svc=$((2 * count))" "$svc"

new=()
while read -r id; do
  [[ " ${old[*]} " == *" $id "* ]] || new+=("$id")
done < <("${compose[@]}" ps -q "$svc")

rollback() {
  say "FAILED: $1; removing the new instance(s), the old ones keep serving"
  if ((${#new[@]})); then
    docker stop --time "$stop_timeout" "${new[@]}" >/dev/null || true
    docker rm "${new[@]}" >/dev/null || true
  fi
  exit 1
}

((${#new[@]} == count)) || rollback "expected $count new instance(s), found ${#new[@]}"

passing_addresses() {
  # Addresses of the service's passing instances, asked of the Consul agent (its port is not published).
  "${compose[@]}" exec -T consul sh -c \
    "curl -fsS 'http://127.0.0.1:8500/v1/health/service/$svc?passing' | jq -r '.[].Service.Address'" 2>/dev/null
}

deadline=$((SECONDS + timeout))
for id in "${new[@]}"; do
  until [[ $(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$id") == healthy ]]; do
    ((SECONDS < deadline)) || rollback "instance ${id:0:12} is not healthy after ${timeout}s"
    sleep 2
  done
  if ((registered)); then
    address=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$id")
    address=${address%% *}
    until passing_addresses | grep -qxF "$address"; do
      ((SECONDS < deadline)) || rollback "instance ${id:0:12} ($address) is not passing in Consul after ${timeout}s"
      sleep 2
    done
  fi
  say "new instance ${id:0:12} is ready"
done

if ((registered)); then
  sleep 2   # callers' blocking queries on Consul return at once; a little margin for the slowest
else
  sleep 7   # nginx re-resolves `gateway` every 5 s (nginx.conf); let it learn the new instances first
fi

say "stopping the old instance(s): SIGTERM -> deregister, drain, exit"
docker stop --time "$stop_timeout" "${old[@]}" >/dev/null
docker rm "${old[@]}" >/dev/null
say "done: $count instance(s) now run the new image"
