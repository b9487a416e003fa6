#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build and test promstack. Idempotent: every step
# checks first, so `make test` can call it on every run.
set -euo pipefail

VENV="${PROMSTACK_VENV:-$HOME/.cache/promstack/venv}"
PY="${PYTHON:-python3}"
MOTO_VERSION="5.2.5"
CARGO_LAMBDA_VERSION="1.9.2"
CFN_LINT_VERSION="1.58.0"
# Template checks (scripts/check-template.sh). Each gets a venv of its own: aws-sam-cli pins boto3
# 1.43.x and checkov pins boto3 1.35.x, so neither can share a venv with the other, and keeping
# them apart from moto means their exact pins never move moto's boto3. Their commands are linked
# into $VENV/bin next to cfn-lint.
SAM_CLI_VERSION="1.170.0"
CHECKOV_VERSION="3.3.30"

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

# --- Template checks: sam (aws-sam-cli) and checkov, one venv each, linked into $VENV/bin -------
tool_venv() { # tool_venv NAME PACKAGE==VERSION COMMAND
  local dir="$VENV-$1" spec="$2" cmd="$3"
  if [ ! -x "$dir/bin/python" ]; then
    log "creating venv $dir"
    "$PY" -m venv "$dir"
  fi
  if ! "$dir/bin/python" - "$spec" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
name, ver = sys.argv[1].split("==")
sys.exit(version(name) != ver)
PY
  then
    log "installing $spec into $dir"
    "$dir/bin/pip" install -q --disable-pip-version-check "$spec"
  fi
  ln -sfn "$dir/bin/$cmd" "$VENV/bin/$cmd"
}
tool_venv sam "aws-sam-cli==$SAM_CLI_VERSION" sam
tool_venv checkov "checkov==$CHECKOV_VERSION" checkov

log "prometheus: $(prometheus --version 2>&1 | head -n1)"
log "moto_server: $("$VENV/bin/moto_server" --help >/dev/null 2>&1 && echo ok)  ($VENV/bin/moto_server)"
log "cargo-lambda: $("$VENV/bin/cargo-lambda" lambda --version 2>/dev/null || echo missing)"
log "sam: $("$VENV/bin/sam" --version 2>/dev/null || echo missing)"
log "checkov: $("$VENV/bin/checkov" --version 2>/dev/null || echo missing)"
