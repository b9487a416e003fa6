#!/usr/bin/env bash
# cloudwatch-exporter scale run against a real moto server and a real Prometheus.
#   scripts/scale-cloudwatch-exporter.sh [N ...]      (default: 1000 10000 50000)
# Env (all optional):
#   MOTO_URL          a running moto server; default: start ~/.cache/promstack/venv/bin/moto_server
#                     on a free 127.0.0.1 port (moto is reset before every size either way)
#   REMOTE_WRITE_URL  Prometheus' /api/v1/write; default: start /usr/bin/prometheus on a free
#                     port with --web.enable-remote-write-receiver
#   SCALE_TIMEOUT     seconds allowed per size for the run (default 900); a size that takes
#                     longer is reported as not measured
#   SCALE_DIR         where logs go (default: a temp dir)
# For each N: reset moto, `scale seed N` (one process), then `scale run N` (another process, so
# its CPU time and peak RSS are the exporter's alone), then check Prometheus has the series.
# The series are aws_scale_load_average{dimension_Id="i-..."}, at most 5,000 per region (moto's
# ListMetrics is quadratic per region; see PER_REGION in the example). Built with the bench
# profile: release's optimisation level, as deployed.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${PROMSTACK_VENV:-$HOME/.cache/promstack/venv}"
SCALE_DIR="${SCALE_DIR:-$(mktemp -d /tmp/promstack-scale.XXXXXX)}"
SCALE_TIMEOUT="${SCALE_TIMEOUT:-900}"
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000 50000)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 120); do curl -fs -o /dev/null "$1" && return 0; sleep 0.5; done; echo "no answer from $1" >&2; return 1; }

pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
if [ -z "${MOTO_URL:-}" ]; then
  port=$(free_port); MOTO_URL="http://127.0.0.1:$port"
  "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$SCALE_DIR/moto.log" 2>&1 & pids+=($!)
  wait_http "$MOTO_URL/moto-api/"
fi
if [ -z "${REMOTE_WRITE_URL:-}" ]; then
  port=$(free_port); mkdir -p "$SCALE_DIR/prometheus-data"
  printf 'global:\n  scrape_interval: 1m\n' >"$SCALE_DIR/prometheus.yml"
  prometheus --config.file="$SCALE_DIR/prometheus.yml" --storage.tsdb.path="$SCALE_DIR/prometheus-data" \
    --web.listen-address="127.0.0.1:$port" --web.enable-remote-write-receiver \
    >"$SCALE_DIR/prometheus.log" 2>&1 & pids+=($!)
  wait_http "http://127.0.0.1:$port/-/ready"
  REMOTE_WRITE_URL="http://127.0.0.1:$port/api/v1/write"
fi
export MOTO_URL REMOTE_WRITE_URL
echo "moto $MOTO_URL, remote write $REMOTE_WRITE_URL, logs $SCALE_DIR"

cargo build -q --profile bench -p cloudwatch-exporter --example scale
bin=target/release/examples/scale

for n in "${sizes[@]}"; do
  curl -fsS -o /dev/null -X POST "$MOTO_URL/moto-api/reset"
  "$bin" seed "$n"
  t0=$(date +%s.%N)
  set +e
  timeout "$SCALE_TIMEOUT" "$bin" run "$n" 2>"$SCALE_DIR/run-$n.log"
  rc=$?
  set -e
  wall=$(python3 -c "import time; print(f'{time.time() - $t0:.1f}')")
  case $rc in
    0) # The series are in Prometheus: one per seeded series (the sizes reuse the Id values).
      got=$(curl -fsS "${REMOTE_WRITE_URL%/api/v1/write}/api/v1/query" \
        --data-urlencode 'query=count(count_over_time(aws_scale_load_average[15m]))' |
        python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)')
      [ "$got" -ge "$n" ] || { echo "series=$n FAILED: Prometheus has $got aws_scale_load_average series"; exit 1; }
      echo "series=$n wall_s_incl_moto=$wall prometheus_series=$got" ;;
    124) echo "series=$n NOT MEASURED: no result within ${SCALE_TIMEOUT}s (moto 5.2's ListMetrics compares every datapoint with every metric found so far, and its GetMetricData scans every datapoint per query and period)" ;;
    *) echo "series=$n FAILED (exit $rc) after ${wall}s; log $SCALE_DIR/run-$n.log"; tail -5 "$SCALE_DIR/run-$n.log" ;;
  esac
done
