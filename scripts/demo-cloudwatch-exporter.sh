#!/usr/bin/env bash
# cloudwatch-exporter demo. Needs a running moto server and Prometheus (remote-write receiver on):
#   MOTO_URL        moto server, e.g. http://127.0.0.1:5000 (AWS_ENDPOINT_URL is set to it)
#   PROMETHEUS_URL  Prometheus, e.g. http://127.0.0.1:9090
#   DEMO_DIR        optional, where logs go (default: a temp dir)
# Seeds CloudWatch (two tagged EC2 instances with CPU datapoints, a custom namespace), runs the
# exporter under `cargo lambda watch`, invokes it twice with the schedule event, and prints a
# Prometheus URL showing the exported series.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${MOTO_URL:?set MOTO_URL}" "${PROMETHEUS_URL:?set PROMETHEUS_URL}"
VENV="${PROMSTACK_VENV:-$HOME/.cache/promstack/venv}"
CARGO_LAMBDA="${CARGO_LAMBDA:-$VENV/bin/cargo-lambda}"
DEMO_DIR="${DEMO_DIR:-$(mktemp -d /tmp/promstack-cwe.XXXXXX)}"
INVOKE_PORT="${INVOKE_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}"

export AWS_ENDPOINT_URL="$MOTO_URL" AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing

# moto reads the service and region from the credential scope of the Authorization header.
aws_query() { # SERVICE QUERY...
  local service=$1; shift
  curl -fsS -o /dev/null -X POST "$MOTO_URL/" \
    -H "Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/$service/aws4_request, SignedHeaders=host, Signature=0" \
    -H 'Content-Type: application/x-www-form-urlencoded' --data "$*"
}
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

echo "--> seeding CloudWatch, EC2 and S3 in moto"
curl -fsS -o /dev/null -X PUT "$MOTO_URL/promstack-demo-state" \
  -H "Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0"
now=$(date +%s); minute=$((now / 60 * 60))
for spec in web:core batch:other; do
  name=${spec%%:*}; team=${spec##*:}
  out=$(curl -fsS -X POST "$MOTO_URL/" \
    -H "Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0" \
    -H 'Content-Type: application/x-www-form-urlencoded' \
    --data "Action=RunInstances&Version=2016-11-15&ImageId=ami-12c6146b&MinCount=1&MaxCount=1&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=$name&TagSpecification.1.Tag.2.Key=team&TagSpecification.1.Tag.2.Value=$team")
  id=$(grep -o '<instanceId>[^<]*' <<<"$out" | head -1 | cut -d'>' -f2)
  echo "    instance $id (Name=$name, team=$team)"
  for back in 240 180 120 60; do
    aws_query monitoring "Action=PutMetricData&Version=2010-08-01&Namespace=AWS/EC2&MetricData.member.1.MetricName=CPUUtilization&MetricData.member.1.Dimensions.member.1.Name=InstanceId&MetricData.member.1.Dimensions.member.1.Value=$id&MetricData.member.1.Value=$((RANDOM % 90 + 5))&MetricData.member.1.Timestamp=$(iso $((minute - back)))"
  done
done
for back in 540 480 420 360 300 240 180 120 60; do
  aws_query monitoring "Action=PutMetricData&Version=2010-08-01&Namespace=MyApp&MetricData.member.1.MetricName=Orders&MetricData.member.1.Dimensions.member.1.Name=Shop&MetricData.member.1.Dimensions.member.1.Value=berlin&MetricData.member.1.Value=$((RANDOM % 20))&MetricData.member.1.Timestamp=$(iso $((minute - back)))"
done

echo "--> checking the config the way a config repo's pipeline would"
cargo run -q -p cloudwatch-exporter -- verify-config examples/yace/demo.yml

echo "--> cargo lambda watch (log $DEMO_DIR/cloudwatch-exporter.log)"
"$CARGO_LAMBDA" lambda watch -p cloudwatch-exporter --invoke-port "$INVOKE_PORT" \
  --env-var "EXPORTER_CONFIG=$PWD/examples/yace/demo.yml" \
  --env-var "REMOTE_WRITE_URL=$PROMETHEUS_URL/api/v1/write" \
  --env-var STATE_BUCKET=promstack-demo-state \
  --env-var "AWS_ENDPOINT_URL=$MOTO_URL,AWS_REGION=us-east-1,AWS_ACCESS_KEY_ID=testing,AWS_SECRET_ACCESS_KEY=testing" \
  >"$DEMO_DIR/cloudwatch-exporter.log" 2>&1 &
watch_pid=$!
trap 'kill $watch_pid 2>/dev/null || true' EXIT

invoke() {
  sed "s/53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa/demo-$(date +%s%N)/" events/cloudwatch-exporter-schedule.json >"$DEMO_DIR/event.json"
  "$CARGO_LAMBDA" lambda invoke cloudwatch-exporter --invoke-port "$INVOKE_PORT" --data-file "$DEMO_DIR/event.json"
}
for _ in $(seq 1 600); do # the first invoke waits for the build
  if invoke >"$DEMO_DIR/invoke.json" 2>/dev/null; then break; fi
  kill -0 $watch_pid 2>/dev/null || { cat "$DEMO_DIR/cloudwatch-exporter.log"; exit 1; }
  sleep 1
done
echo "    first run:  $(cat "$DEMO_DIR/invoke.json")"
invoke >"$DEMO_DIR/invoke2.json"
echo "    second run: $(cat "$DEMO_DIR/invoke2.json")"

query='{__name__=~"aws_.+"}'
enc=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$query")
echo "--> exported series:"
curl -fsS "$PROMETHEUS_URL/api/v1/query?query=$enc" | python3 -c '
import json, sys
for r in json.load(sys.stdin)["data"]["result"]:
    m = r["metric"]; name = m.pop("__name__")
    print("   ", name, m, "=", r["value"][1])'
echo
echo "Open: $PROMETHEUS_URL/graph?g0.expr=$enc&g0.tab=1"
echo "      $PROMETHEUS_URL/graph?g0.expr=$(python3 -c 'import urllib.parse; print(urllib.parse.quote("cloudwatch_exporter_run_api_requests"))')&g0.tab=1"
