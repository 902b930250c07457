#!/bin/sh
# nginx for the compose stack, following the gateway replicas.
#
# nginx resolves `gateway` (every replica, through Docker's DNS) only when it
# loads its config. This runs nginx in the foreground and, beside it, checks
# the DNS answer every second; when the set of replica addresses changes
# (`docker compose up --scale gateway=N`, a replica restarted or killed) it
# reloads nginx. A reload is graceful: the previous workers keep serving their
# open WebSockets until those close; new connections go to the new workers.
#
# First it writes the settings the TLS site (matomo-live-tls.conf) takes from
# the environment (tls-settings.sh); the plain site does not read them.
set -eu
host="${GATEWAY_HOST:-gateway}"
interval="${FOLLOW_INTERVAL:-1}"


replicas() {
  getent ahostsv4 "$host" 2>/dev/null | awk '{ print $1 }' | sort -u | tr '\n' ' '
}

follow() {
  known="$(replicas)"
  while sleep "$interval"; do
    current="$(replicas)"
    # No answer at all (every replica down): keep the last config, nginx
    # answers 502 until one is back and appears here.
    if [ -n "$current" ] && [ "$current" != "$known" ]; then
      echo "follow-replicas: $host is now [ $current] (was [ $known]): reloading nginx" >&2
      if nginx -s reload; then known="$current"; fi
    fi
  done
}

sh "$(dirname "$0")/tls-settings.sh" /run/matomo-live/tls-env.conf
follow &
exec nginx -g 'daemon off;'
