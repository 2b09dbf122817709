#!/usr/bin/env bash
# Run Tellify on this machine: starts Redis and SecantusDB (installed if
# missing, data kept in .run/dev) and then `tellify` on http://127.0.0.1:8080.
# Arguments go to `tellify` (see `tellify --help`); TELLIFY_* variables too.
# Ctrl-C stops Tellify; `TELLIFY_PROFILE=dev scripts/services.sh stop` stops
# the services.
set -euo pipefail
cd "$(dirname "$0")/.."
export TELLIFY_PROFILE=dev
eval "$(scripts/services.sh start)"
export TELLIFY_SMTP_URL
exec cargo run --release -p tellify-server --bin tellify -- "$@"
