#!/usr/bin/env bash
# `make demo`: the stack on a laptop. Starts moto server (AWS) and Prometheus (remote-write
# receiver and lifecycle API on) on loopback, with a directory standing in for the EFS volume,
# then runs each function's demo script (scripts/demo-<function>.sh) against them and prints
# where to look. Ctrl-C stops everything (DEMO_KEEP_RUNNING=0 stops right after the scripts).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${PROMSTACK_VENV:-$HOME/.cache/promstack/venv}"
DEMO_DIR="${DEMO_DIR:-$(mktemp -d /tmp/promstack-demo.XXXXXX)}"
EFS="$DEMO_DIR/efs"
mkdir -p "$EFS/file_sd/ecs" "$EFS/rules.d" "$DEMO_DIR/prometheus-data"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 100); do curl -fs -o /dev/null "$1" && return 0; sleep 0.2; done; echo "not ready: $1" >&2; return 1; }

MOTO_PORT=$(free_port); PROM_PORT=$(free_port)
export MOTO_URL="http://127.0.0.1:$MOTO_PORT"
export PROMETHEUS_URL="http://127.0.0.1:$PROM_PORT"
export EFS_MOUNT="$EFS"
export AWS_ENDPOINT_URL="$MOTO_URL" AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing

# Until the config updater deploys one, Prometheus reads ecs-discovery's files with a short
# refresh_interval (EFS gives a Prometheus on another host no inotify events).
if [ ! -f "$EFS/prometheus.yml" ]; then
  cat > "$EFS/prometheus.yml" <<'YAML'
global:
  scrape_interval: 15s
rule_files:
  - rules.d/*.yml
scrape_configs:
  - job_name: ecs
    file_sd_configs:
      - files: [file_sd/ecs/*.json]
        refresh_interval: 30s
YAML
fi

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

"$VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" >"$DEMO_DIR/moto.log" 2>&1 & pids+=($!)
prometheus --config.file="$EFS/prometheus.yml" --storage.tsdb.path="$DEMO_DIR/prometheus-data" \
  --web.listen-address="127.0.0.1:$PROM_PORT" --web.enable-remote-write-receiver --web.enable-lifecycle \
  >"$DEMO_DIR/prometheus.log" 2>&1 & pids+=($!)
wait_http "$MOTO_URL/moto-api/"
wait_http "$PROMETHEUS_URL/-/ready"
echo "==> moto server  $MOTO_URL      (log $DEMO_DIR/moto.log)"
echo "==> Prometheus   $PROMETHEUS_URL (log $DEMO_DIR/prometheus.log)"
echo "==> EFS stand-in $EFS"

ran=0
for fn in ecs-discovery cloudwatch-exporter config-updater; do
  script="scripts/demo-$fn.sh"
  if [ -f "$script" ]; then
    echo; echo "==> $fn"
    bash "$script"
    ran=$((ran + 1))
  fi
done
if [ "$ran" -eq 0 ]; then
  echo "no function demos yet; the remote-write client and the servers are ready"
fi

echo
echo "==> Prometheus targets: $PROMETHEUS_URL/targets"
echo "==> Prometheus graph:   $PROMETHEUS_URL/graph"
if [ "${DEMO_KEEP_RUNNING:-1}" = 1 ]; then
  echo "==> running; Ctrl-C stops moto and Prometheus"
  wait
fi
