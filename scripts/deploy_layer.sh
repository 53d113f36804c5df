#!/usr/bin/env bash
# Deploy one layer: `scripts/deploy_layer.sh <layer> <cdktf deploy flags…>`. The one recipe behind
# make deploy, make deploy-<layer> and make deploy-changed, so each does the same.
# The edge layer: scripts/certificate_records.py runs beside the apply and prints the DNS record ACM
# needs for a [domain] without a zone while the apply waits for the certificate (docs/deployment.md);
# it never fails the deploy. The exit status is the apply's. cdktf and python3 come from PATH, which
# the Makefile puts node_modules/.bin and .venv/bin first on.
set -euo pipefail
layer="$1"
shift
log="$(mktemp)"
watcher=""
cleanup() {
  [ -z "$watcher" ] || kill "$watcher" 2>/dev/null || true
  rm -f "$log"
}
trap cleanup EXIT
if [ "$layer" = edge ]; then
  python3 scripts/certificate_records.py &
  watcher=$!
fi
status=0
# The apply's own output still reaches the terminal; the copy lets a certificate that ACM did not
# issue in time end in one line saying what to do, after Terraform's multi-line error.
cdktf deploy "$layer" "$@" 2>&1 | tee "$log" || status=$?
if [ "$status" -ne 0 ] && grep -q "to be issued: timeout while waiting for state to become 'ISSUED'" "$log"; then
  echo "deploy-$layer: ACM did not issue the certificate within certificate_validation_timeout: its DNS validation record is missing or not visible yet; create it (the record line above, or make outputs) and run make deploy-$layer again, which waits again" >&2
fi
exit "$status"
