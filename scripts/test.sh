#!/usr/bin/env bash
# Run Tellify's whole test suite against real services: Redis, SecantusDB
# (MongoDB wire protocol) and an SMTP server, installed if missing and
# started if not running (scripts/services.sh, which also installs Chromium
# and chromedriver for the browser tests and exports TELLIFY_CHROMIUM and
# TELLIFY_CHROMEDRIVER, where the tests find them). Services this script started
# are stopped at the end; ones that were already running are left running.
# Extra arguments go to `cargo test` (e.g. a test name filter).
set -euo pipefail
cd "$(dirname "$0")/.."
export TELLIFY_PROFILE=test
already=$(scripts/services.sh status | grep -c running || true)
eval "$(scripts/services.sh start)"
if [ "$already" != 3 ]; then trap 'scripts/services.sh stop' EXIT; fi
cargo test --workspace "$@"
