#!/usr/bin/env bash
# A self-signed test certificate for 127.0.0.1 (ECDSA P-256, valid 2 days), made with
# Debian's openssl command (scripts/setup.sh installs it):
#
#   tests/make-cert.sh CERT.pem KEY.pem [COMMON_NAME]
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: tests/make-cert.sh CERT.pem KEY.pem [COMMON_NAME]" >&2; exit 2; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj "/CN=${3:-127.0.0.1}" -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$2" -out "$1" 2>/dev/null
