#!/usr/bin/env bash
# ecs-discovery demo: registers labelled task definitions and runs tasks in moto (ECS/EC2), runs
# the scheduled reconcile and two task state change events through the function's local mode
# (`ecs-discovery reconcile` / `ecs-discovery invoke EVENT.json`), and shows the targets on
# Prometheus. Run by `make demo` (scripts/demo.sh), or by hand with the servers running:
#   MOTO_URL        moto server, e.g. http://127.0.0.1:5000 (also AWS_ENDPOINT_URL for the function)
#   PROMETHEUS_URL  Prometheus whose prometheus.yml is in EFS_MOUNT and reads file_sd/ecs/*.json
#   EFS_MOUNT       the directory standing in for the EFS volume (PROMETHEUS_CONFIG_DIR)
#   PROMSTACK_VENV  the venv with moto/boto3 (default ~/.cache/promstack/venv)
# The targets' addresses are moto's made-up IPs, so Prometheus lists them as down: what the demo
# shows is discovery (addresses and labels), not scraping.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${MOTO_URL:?set MOTO_URL}" "${PROMETHEUS_URL:?set PROMETHEUS_URL}" "${EFS_MOUNT:?set EFS_MOUNT}"
VENV="${PROMSTACK_VENV:-$HOME/.cache/promstack/venv}"
WORK="$(mktemp -d /tmp/promstack-ecs-demo.XXXXXX)"
source scripts/demo-aws-env.sh
export PROMETHEUS_CONFIG_DIR="$EFS_MOUNT" CLUSTERS=demo RUST_LOG="${RUST_LOG:-info}"

# Tasks stay RUNNING however often moto is asked about them.
curl -fsS -X POST "$MOTO_URL/moto-api/state-manager/set-transition" \
  -d '{"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1000000}}' >/dev/null

echo "--- moto: cluster demo, 3 Fargate (awsvpc) tasks of family api, 1 bridge task of family jmx on an EC2 instance"
"$VENV/bin/python" - "$WORK" <<'PY'
import json, sys, boto3
work = sys.argv[1]
ecs, ec2 = boto3.client("ecs"), boto3.client("ec2")
ecs.create_cluster(clusterName="demo")
vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
sg = ec2.create_security_group(GroupName="tasks", Description="tasks", VpcId=vpc)["GroupId"]
instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, SubnetId=subnet)["Instances"][0]
ecs.register_container_instance(cluster="demo", instanceIdentityDocument=json.dumps({"instanceId": instance["InstanceId"]}))
api = ecs.register_task_definition(
    family="api", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
    containerDefinitions=[{"name": "web", "image": "example/web:1", "memory": 128, "dockerLabels": {
        "PROMETHEUS_EXPORTER_PORT": "9100", "PROMETHEUS_EXPORTER_JOB_NAME": "api",
        "PROMETHEUS_EXPORTER_ADMIN_PORT": "9200", "PROMETHEUS_EXPORTER_ADMIN_PATH": "/admin/metrics"}}],
)["taskDefinition"]["taskDefinitionArn"]
jmx = ecs.register_task_definition(
    family="jmx", networkMode="bridge", requiresCompatibilities=["EC2"],
    containerDefinitions=[{"name": "jmx", "image": "example/jmx:1", "memory": 128,
        "portMappings": [{"containerPort": 9404, "hostPort": 0}],
        "dockerLabels": {"ECS_PROMETHEUS_EXPORTER_PORT": "9404", "ECS_PROMETHEUS_JOB_NAME": "jmx"}}],
)["taskDefinition"]["taskDefinitionArn"]
net = {"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [sg]}}
tasks = ecs.run_task(cluster="demo", taskDefinition=api, launchType="FARGATE", count=3, group="service:api",
                     networkConfiguration=net)["tasks"]
bridge = ecs.run_task(cluster="demo", taskDefinition=jmx, launchType="EC2")["tasks"][0]

def event(task, version, status, bindings=()):
    """What EventBridge delivers, built from moto's DescribeTasks (plus what moto leaves out)."""
    t = ecs.describe_tasks(cluster="demo", tasks=[task["taskArn"]])["tasks"][0]
    atts = [dict(a, type="eni") for a in t.get("attachments", [])]
    containers = [{"name": c["name"], "lastStatus": status,
                   "networkBindings": [{"containerPort": cp, "hostPort": hp, "bindIP": "0.0.0.0"} for cp, hp in bindings]}
                  for c in t["containers"]]
    detail = {"taskArn": t["taskArn"], "clusterArn": t["clusterArn"], "taskDefinitionArn": t["taskDefinitionArn"],
              "group": t.get("group"), "lastStatus": status, "desiredStatus": "STOPPED" if status == "STOPPED" else "RUNNING",
              "version": version, "launchType": t.get("launchType") or None, "availabilityZone": "us-east-1a",
              "containerInstanceArn": t.get("containerInstanceArn"), "attachments": atts, "containers": containers}
    return {"version": "0", "id": f"{t['taskArn']}-{version}", "detail-type": "ECS Task State Change", "source": "aws.ecs",
            "account": "123456789012", "time": "2026-01-01T00:00:00Z", "region": "us-east-1", "resources": [t["taskArn"]],
            "detail": detail}

# Stop one Fargate task in moto; its STOPPED event goes through the function below.
ecs.stop_task(cluster="demo", task=tasks[0]["taskArn"], reason="demo")
json.dump(event(tasks[0], 9, "STOPPED"), open(f"{work}/stopped.json", "w"))
# DescribeTasks in moto has no network bindings: bridge targets come from the event.
json.dump(event(bridge, 2, "RUNNING", [(9404, 32768)]), open(f"{work}/bridge-running.json", "w"))
print(f"instance {instance['InstanceId']} ip {instance['PrivateIpAddress']}; api tasks:",
      ", ".join(t["taskArn"].rsplit("/", 1)[-1] for t in tasks))
PY

run() { cargo run -q -p ecs-discovery -- "$@"; }
echo "--- reconcile (the schedule): every task ECS lists as running"
run reconcile
echo "--- event: a Fargate task STOPPED"
run invoke "$WORK/stopped.json"
echo "--- event: the bridge task RUNNING (host port 32768 on the instance's IP)"
run invoke "$WORK/bridge-running.json"
echo "--- the same event again (EventBridge delivers at least once): ignored"
run invoke "$WORK/bridge-running.json"

FILE="$EFS_MOUNT/file_sd/ecs/demo.json"
echo "--- $FILE"
cat "$FILE"

# 2 Fargate tasks x 2 endpoints + 1 bridge target.
want=5
for _ in $(seq 1 100); do
  got=$(curl -fsS "$PROMETHEUS_URL/api/v1/targets?state=active" |
    "$VENV/bin/python" -c 'import json,sys; print(sum(1 for t in json.load(sys.stdin)["data"]["activeTargets"] if t["labels"].get("cluster") == "demo"))')
  [ "$got" = "$want" ] && break
  sleep 0.5
done
echo "--- Prometheus has $got of $want ECS targets: $PROMETHEUS_URL/targets"
[ "$got" = "$want" ]
