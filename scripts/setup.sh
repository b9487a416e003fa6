#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build and test promstack. Idempotent: every step
# checks first, so `make test` can call it on every run.
set -euo pipefail

VENV="${PROMSTACK_VENV:-$HOME/.cache/promstack/venv}"
PY="${PYTHON:-python3}"
MOTO_VERSION="5.2.5"
CARGO_LAMBDA_VERSION="1.9.2"
CFN_LINT_VERSION="1.58.0"

log() { printf '==> %s\n' "$*"; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# --- Debian packages: Prometheus (the real server the tests run) ------------------------------
if ! command -v prometheus >/dev/null 2>&1; then
  log "installing Debian package prometheus"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
# The package starts a service on :9090 (and node exporter on :9100); the tests start their own
# servers on free ports, so never let the packaged ones hold a port.
for svc in prometheus prometheus-node-exporter; do
  if command -v systemctl >/dev/null 2>&1 && systemctl list-unit-files "$svc.service" >/dev/null 2>&1; then
    as_root systemctl disable --now "$svc" >/dev/null 2>&1 || true
  fi
  if [ -x "/etc/init.d/$svc" ]; then as_root "/etc/init.d/$svc" stop >/dev/null 2>&1 || true; fi
done
if command -v update-rc.d >/dev/null 2>&1; then
  as_root update-rc.d -f prometheus remove >/dev/null 2>&1 || true
fi

# --- Python venv: moto server (AWS), cargo-lambda, cfn-lint ----------------------------------
if [ ! -x "$VENV/bin/python" ]; then
  log "creating venv $VENV"
  mkdir -p "$(dirname "$VENV")"
  "$PY" -m venv "$VENV"
fi
want=("moto[server]==$MOTO_VERSION" "cargo-lambda==$CARGO_LAMBDA_VERSION" "cfn-lint==$CFN_LINT_VERSION")
if ! "$VENV/bin/python" - "${want[@]}" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
for spec in sys.argv[1:]:
    name, ver = spec.split("==")
    name = name.split("[")[0]
    if version(name) != ver:
        sys.exit(1)
import flask, flask_cors  # moto[server]'s extras
PY
then
  log "installing ${want[*]} into $VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "${want[@]}"
fi

log "prometheus: $(prometheus --version 2>&1 | head -n1)"
log "moto_server: $("$VENV/bin/moto_server" --help >/dev/null 2>&1 && echo ok)  ($VENV/bin/moto_server)"
log "cargo-lambda: $("$VENV/bin/cargo-lambda" lambda --version 2>/dev/null || echo missing)"
