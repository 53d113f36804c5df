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
if [ "$layer" != edge ]; then
  exec cdktf deploy "$layer" "$@"
fi
python3 scripts/certificate_records.py &
watcher=$!
status=0
cdktf deploy edge "$@" || status=$?
kill "$watcher" 2>/dev/null || true
exit "$status"
