#!/bin/sh
# A self-signed certificate and key for TRYING the TLS setup
# (docker-compose.tls.yml); use a real certificate in production.
#
#   sh deploy/nginx/self-signed-cert.sh [DIR] [NAME...]
#
# Writes DIR/fullchain.pem and DIR/privkey.pem (DIR defaults to ./certs, the
# directory docker-compose.tls.yml mounts unless TLS_CERT_DIR says otherwise),
# valid for 90 days for localhost, 127.0.0.1 and every NAME given (a host name
# or an IP address). Browsers warn about it: it is signed by nobody they trust.
# Clients can trust it explicitly: `curl --cacert DIR/fullchain.pem`, or the
# `ca` option of a Node WebSocket.
set -eu
dir="${1:-./certs}"
[ $# -gt 0 ] && shift
command -v openssl >/dev/null || { echo "self-signed-cert: openssl is not installed (apt-get install openssl)" >&2; exit 1; }

san="DNS:localhost,IP:127.0.0.1"
for name in "$@"; do
  case "$name" in
    *[!0-9.]*) san="$san,DNS:$name" ;;
    *) san="$san,IP:$name" ;;
  esac
done
cn="${1:-localhost}"

mkdir -p "$dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 90 \
  -subj "/CN=$cn" -addext "subjectAltName=$san" \
  -keyout "$dir/privkey.pem" -out "$dir/fullchain.pem" 2>/dev/null
# nginx's master reads the key as root inside its container, but without
# CAP_DAC_OVERRIDE: a key owned by another user must be readable by others.
# Fine for this throw-away trial key; a production key stays root-owned, 0600.
chmod 0644 "$dir/privkey.pem" "$dir/fullchain.pem"
echo "self-signed-cert: wrote $dir/fullchain.pem and $dir/privkey.pem for $san (90 days)" >&2
