#!/usr/bin/env bash
# Install (if missing) and start, idempotently, the services Tellify needs for
# development and tests: Redis (Debian's redis-server), SecantusDB (a MongoDB
# wire-protocol server, from PyPI, in the project's own virtual environment)
# and aiosmtpd (a real SMTP server that stores what it receives). It also
# installs, if missing, Debian's Chromium and ChromeDriver for the browser
# tests (server/tests/api/browser.rs); the tests start them themselves.
#
#   scripts/services.sh start    # install what is missing, start what is not running
#   scripts/services.sh env      # print the environment (export lines) for the running services
#   scripts/services.sh stop     # stop what this script started
#   scripts/services.sh status
#
# Two profiles, each with its own services and state directory, so the tests
# never touch the data of a Tellify you are running:
#   TELLIFY_PROFILE=test (default): .run/test, data in memory only;
#   TELLIFY_PROFILE=dev: .run/dev, data kept on disk across restarts.
# The state directory holds the ports (chosen once, free at the time, reused
# after), pid files, logs and the mail the SMTP server received.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PROFILE="${TELLIFY_PROFILE:-test}"
case "$PROFILE" in test|dev) ;; *) echo "TELLIFY_PROFILE must be test or dev" >&2; exit 2 ;; esac
RUN="$ROOT/.run/$PROFILE"
VENV="$ROOT/.venv"
SECANTUS_VERSION="0.7.0b3"
AIOSMTPD_VERSION="1.4.6"
mkdir -p "$RUN"

log() { printf 'services: %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    log "need root to run: $*"; return 1; fi
}

install_redis() {
  if command -v redis-server >/dev/null 2>&1; then return; fi
  log "installing redis-server from Debian"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  # Debian's package starts a system service; we run our own instances.
  as_root systemctl disable --now redis-server >/dev/null 2>&1 || true
}

# The browser tests drive Debian's Chromium through its ChromeDriver
# (/usr/bin/chromium, /usr/bin/chromedriver); they start both themselves.
install_chromium() {
  if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then return; fi
  log "installing chromium and chromium-driver from Debian"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
}

install_python() {
  local want="SecantusDB==$SECANTUS_VERSION aiosmtpd==$AIOSMTPD_VERSION"
  if [ -f "$VENV/.installed" ] && [ "$(cat "$VENV/.installed")" = "$want" ]; then return; fi
  log "creating $VENV with $want"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check $want
  echo "$want" > "$VENV/.installed"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

port_of() { # name -> port, chosen once
  local f="$RUN/$1.port"
  if [ ! -s "$f" ]; then free_port > "$f"; fi
  cat "$f"
}

running() { # name -> 0 if its pid file names a live process
  local pidf="$RUN/$1.pid"
  [ -s "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null
}

wait_port() { # port name
  for _ in $(seq 1 150); do
    if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  log "$2 did not open port $1; see $RUN/$2.log"; tail -n 20 "$RUN/$2.log" >&2 || true; return 1
}

start_one() { # name command...
  local name=$1; shift
  if running "$name"; then return; fi
  nohup "$@" > "$RUN/$name.log" 2>&1 &
  echo $! > "$RUN/$name.pid"
}

start() {
  install_redis
  install_chromium
  install_python
  local rp mp sp
  rp=$(port_of redis); mp=$(port_of mongo); sp=$(port_of smtp)
  mkdir -p "$RUN/mail"
  if [ "$PROFILE" = dev ]; then
    mkdir -p "$RUN/mongo-data"
    start_one redis redis-server --port "$rp" --bind 127.0.0.1 --appendonly yes --dir "$RUN"
    start_one mongo "$VENV/bin/secantusd-py" --host 127.0.0.1 --port "$mp" --storage-path "$RUN/mongo-data"
  else
    start_one redis redis-server --port "$rp" --bind 127.0.0.1 --save "" --appendonly no --dir "$RUN"
    start_one mongo "$VENV/bin/secantusd-py" --host 127.0.0.1 --port "$mp" --storage-path :memory:
  fi
  start_one smtp "$VENV/bin/python" "$ROOT/scripts/smtp_sink.py" --port "$sp" --maildir "$RUN/mail"
  wait_port "$rp" redis; wait_port "$mp" mongo; wait_port "$sp" smtp
}

stop() {
  for name in smtp mongo redis; do
    if running "$name"; then
      pid=$(cat "$RUN/$name.pid")
      kill "$pid" 2>/dev/null || true
      # Wait until it is gone, so a start right after finds its port free.
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$RUN/$name.pid"
  done
}

env_lines() {
  echo "export TELLIFY_REDIS_URL=redis://127.0.0.1:$(port_of redis)/"
  echo "export TELLIFY_MONGODB_URI=mongodb://127.0.0.1:$(port_of mongo)/tellify"
  echo "export TELLIFY_SMTP_URL=smtp://127.0.0.1:$(port_of smtp)"
  echo "export TELLIFY_TEST_MAILDIR=$RUN/mail"
  echo "export TELLIFY_CHROMIUM=${TELLIFY_CHROMIUM:-/usr/bin/chromium}"
  echo "export TELLIFY_CHROMEDRIVER=${TELLIFY_CHROMEDRIVER:-/usr/bin/chromedriver}"
}

case "${1:-start}" in
  start) start; env_lines ;;
  env) env_lines ;;
  stop) stop ;;
  status) for n in redis mongo smtp; do
            if running "$n"; then echo "$n running on port $(port_of "$n")"; else echo "$n stopped"; fi
          done ;;
  *) echo "usage: $0 start|env|stop|status" >&2; exit 2 ;;
esac
