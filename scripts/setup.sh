#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build and test promstack. Idempotent: every step
# checks first, so `make test` can call it on every run.
set -euo pipefail

# Everything setup downloads lives under one cache root (another root tests setup from scratch).
CACHE="${PROMSTACK_CACHE:-$HOME/.cache/promstack}"
VENV="${PROMSTACK_VENV:-$CACHE/venv}"
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
# Prometheus 3 (the version the template deploys) next to Debian 12's 2.42: the package from Debian
# unstable, unpacked into the cache and never installed. Its .debs' sha256 per architecture, as
# unstable's signed Packages index lists them.
PROMETHEUS3_VERSION="3.5.3"
PROMETHEUS3_DEB_VERSION="3.5.3+ds1-6"
declare -A PROMETHEUS3_SHA256=(
  [prometheus_amd64]=593bcced02d8082688ea034dfc543848ad145c5f793aae5aad756c4dbdfa98da
  [promtool_amd64]=1fb8bad7b932e7a44bccb12517f0bd96d5d5d83f15d3a1c0e2aa705cbf93fe90
  [prometheus_arm64]=1ee56de93c47df84ba1c1e3c88479db19455db5d99ee59f6bedc7b48f5d120a4
  [promtool_arm64]=92945d09e49f4db89d7d701876be9b56ee21f0e702d9e710f4a61877546207c8
)

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

# --- Prometheus 3.5 and its promtool, unpacked into $CACHE/prometheus-3.5.3 -----------------
# The tests run every Prometheus-backed case on 2.42 and on 3.5 (tests/harness/prometheus.rs finds
# both). apt works on a temp dir of its own (sources, lists, cache), so the system's apt state,
# its sources and /usr stay as they are.
PROMETHEUS3_DIR="$CACHE/prometheus-$PROMETHEUS3_VERSION"
prometheus3_ready() {
  "$PROMETHEUS3_DIR/usr/bin/prometheus" --version 2>/dev/null | head -n1 | grep -q "version $PROMETHEUS3_VERSION[+ ]" &&
    "$PROMETHEUS3_DIR/usr/bin/promtool" --version 2>/dev/null | head -n1 | grep -q "version $PROMETHEUS3_VERSION[+ ]"
}
# Downloads both .debs into $1 from Debian unstable (while it still has the pinned version).
prometheus3_from_unstable() {
  local dl="$1" apt="$1/apt"
  mkdir -p "$apt/etc/sources.list.d" "$apt/etc/preferences.d" "$apt/state/lists/partial" "$apt/cache/archives/partial"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian unstable main" \
    >"$apt/etc/sources.list"
  local opts=(-o "Dir::Etc=$apt/etc" -o "Dir::State=$apt/state" -o "Dir::Cache=$apt/cache"
    -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
  apt-get "${opts[@]}" update -qq >/dev/null &&
    (cd "$dl" && apt-get "${opts[@]}" download -qq \
      "prometheus=$PROMETHEUS3_DEB_VERSION" "promtool=$PROMETHEUS3_DEB_VERSION" >/dev/null)
}
# Downloads both .debs into $1 from snapshot.debian.org, which keeps every upload: its
# machine-readable API names each file's hash, and /file/<hash> serves it.
prometheus3_from_snapshot() {
  local dl="$1" arch="$2" pkg files hash
  for pkg in prometheus promtool; do
    files="$(curl -fsSL "https://snapshot.debian.org/mr/binary/$pkg/$PROMETHEUS3_DEB_VERSION/binfiles")" || return 1
    hash="$(python3 -c 'import json, sys
print(next((f["hash"] for f in json.loads(sys.argv[1])["result"] if f["architecture"] == sys.argv[2]), ""))' \
      "$files" "$arch")" || return 1
    [ -n "$hash" ] || return 1
    curl -fsSL -o "$dl/${pkg}_${PROMETHEUS3_DEB_VERSION}_$arch.deb" "https://snapshot.debian.org/file/$hash" || return 1
  done
}
if ! prometheus3_ready; then
  arch="$(dpkg --print-architecture)"
  if [ -z "${PROMETHEUS3_SHA256[prometheus_$arch]:-}" ]; then
    echo "setup: no pinned Prometheus $PROMETHEUS3_VERSION package for architecture $arch (amd64 and arm64 are)" >&2
    exit 1
  fi
  dl="$(mktemp -d)"
  trap 'rm -rf "$dl" "$PROMETHEUS3_DIR.partial"' EXIT
  if prometheus3_from_unstable "$dl"; then
    log "downloaded prometheus and promtool $PROMETHEUS3_DEB_VERSION ($arch) from Debian unstable"
  else
    log "Debian unstable no longer has prometheus $PROMETHEUS3_DEB_VERSION: trying snapshot.debian.org"
    rm -f "$dl"/*.deb
    if ! prometheus3_from_snapshot "$dl" "$arch"; then
      echo "setup: cannot download prometheus/promtool $PROMETHEUS3_DEB_VERSION ($arch) from unstable or snapshot.debian.org" >&2
      exit 1
    fi
    log "downloaded prometheus and promtool $PROMETHEUS3_DEB_VERSION ($arch) from snapshot.debian.org"
  fi
  mkdir -p "$CACHE"
  rm -rf "$PROMETHEUS3_DIR.partial"
  for pkg in prometheus promtool; do
    deb="$dl/${pkg}_${PROMETHEUS3_DEB_VERSION}_$arch.deb"
    if ! echo "${PROMETHEUS3_SHA256[${pkg}_$arch]}  $deb" | sha256sum -c --quiet - >/dev/null 2>&1; then
      echo "setup: $(basename "$deb") does not have the pinned sha256 ${PROMETHEUS3_SHA256[${pkg}_$arch]}" >&2
      exit 1
    fi
    dpkg-deb -x "$deb" "$PROMETHEUS3_DIR.partial"
  done
  # Unpacked beside the final dir and moved in one step: an interrupted run leaves no half install.
  rm -rf "$PROMETHEUS3_DIR"
  mv "$PROMETHEUS3_DIR.partial" "$PROMETHEUS3_DIR"
  rm -rf "$dl"
  trap - EXIT
  prometheus3_ready || { echo "setup: $PROMETHEUS3_DIR/usr/bin/prometheus does not report $PROMETHEUS3_VERSION" >&2; exit 1; }
  log "unpacked Prometheus $PROMETHEUS3_VERSION and promtool into $PROMETHEUS3_DIR (sha256 checked)"
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

log "prometheus: $(prometheus --version 2>&1 | head -n1)  ($(command -v prometheus))"
log "prometheus: $("$PROMETHEUS3_DIR/usr/bin/prometheus" --version 2>&1 | head -n1)  ($PROMETHEUS3_DIR/usr/bin/prometheus)"
log "moto_server: $("$VENV/bin/moto_server" --help >/dev/null 2>&1 && echo ok)  ($VENV/bin/moto_server)"
log "cargo-lambda: $("$VENV/bin/cargo-lambda" lambda --version 2>/dev/null || echo missing)"
log "sam: $("$VENV/bin/sam" --version 2>/dev/null || echo missing)"
log "checkov: $("$VENV/bin/checkov" --version 2>/dev/null || echo missing)"
