#!/bin/sh
# Writes the two settings matomo-live-tls.conf takes from the environment,
# which nginx cannot read itself, as an nginx include file:
#
#   sh tls-settings.sh FILE        (follow-replicas.sh: /run/matomo-live/tls-env.conf)
#
#   HTTPS_PORT    the host port the https server is published on ("8443", or
#                 "127.0.0.1:8443"; default 443): where http requests are
#                 redirected. → $matomo_live_https_port, ":8443" ("" for 443)
#   HSTS_MAX_AGE  seconds; unset or empty: no Strict-Transport-Security header.
#                 → $matomo_live_hsts, "max-age=N" or ""
#
# A value that is not a number stops here with exit 78 (a configuration
# error), naming the variable.
set -eu
file="${1:?usage: tls-settings.sh FILE}"

port="${HTTPS_PORT:-443}"
port="${port##*:}"
case "$port" in
  '' | *[!0-9]*) echo "tls-settings: HTTPS_PORT=${HTTPS_PORT:-} is not a port number" >&2; exit 78 ;;
  443) suffix='' ;;
  *) suffix=":$port" ;;
esac

case "${HSTS_MAX_AGE:-}" in
  '') hsts='' ;;
  *[!0-9]*) echo "tls-settings: HSTS_MAX_AGE=$HSTS_MAX_AGE is not a number of seconds" >&2; exit 78 ;;
  *) hsts="max-age=$HSTS_MAX_AGE" ;;
esac

mkdir -p "$(dirname "$file")"
printf '# Written by tls-settings.sh from HTTPS_PORT and HSTS_MAX_AGE.\nmap $host $matomo_live_https_port { default "%s"; }\nmap $host $matomo_live_hsts { default "%s"; }\n' \
  "$suffix" "$hsts" >"$file"
