#!/usr/bin/env bash
# config-updater demo: serves a local config repository (examples/config-repo, committed to a
# bare repo) over git smart HTTP (`git http-backend` behind a small Python server that also
# plays the Bitbucket build-status API), stores the webhook secret and access token in moto's
# Secrets Manager, deploys the repo with `config-updater sync`, then commits a new rule, sends a
# signed Bitbucket Cloud `repo:push` webhook through the function's local mode
# (`config-updater invoke EVENT.json`) and shows the new rule in Prometheus.
# Run by `make demo` (scripts/demo.sh), or by hand with the servers running:
#   MOTO_URL        moto server, e.g. http://127.0.0.1:5000 (also AWS_ENDPOINT_URL for the function)
#   PROMETHEUS_URL  Prometheus (lifecycle API on) whose prometheus.yml is in EFS_MOUNT
#   EFS_MOUNT       the directory standing in for the EFS volume (PROMETHEUS_CONFIG_DIR)
#   PROMSTACK_VENV  the venv with moto/boto3 (default ~/.cache/promstack/venv)
set -euo pipefail
cd "$(dirname "$0")/.."

: "${MOTO_URL:?set MOTO_URL}" "${PROMETHEUS_URL:?set PROMETHEUS_URL}" "${EFS_MOUNT:?set EFS_MOUNT}"
VENV="${PROMSTACK_VENV:-$HOME/.cache/promstack/venv}"
WORK="$(mktemp -d /tmp/promstack-config-demo.XXXXXX)"
source scripts/demo-aws-env.sh
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
WEBHOOK_SECRET="demo-webhook-secret" TOKEN="demo-access-token"
git_() { git -c user.name=demo -c user.email=demo@promstack.invalid -c commit.gpgsign=false "$@"; }

echo "--- config repo: examples/config-repo committed to $WORK/srv/config.git"
mkdir -p "$WORK/srv" "$WORK/work"
git_ init --quiet --bare --initial-branch=main "$WORK/srv/config.git"
cp -r examples/config-repo/. "$WORK/work/"
git_ -C "$WORK/work" init --quiet --initial-branch=main
git_ -C "$WORK/work" add -A
git_ -C "$WORK/work" commit --quiet -m "example config"
git_ -C "$WORK/work" push --quiet "$WORK/srv/config.git" HEAD:main

GIT_PORT=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$WORK/server.py" <<'PY'
# git http-backend (smart HTTP) with access-token auth, plus a Bitbucket build-status stub that
# logs each status. Reads chunked request bodies itself (Python's CGI handler cannot).
import base64, http.server, json, os, subprocess, sys
root, token, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
# Like Bitbucket: a bearer header (REST, Data Center git) or basic x-token-auth (Cloud git).
accepted = {f"Bearer {token}", "Basic " + base64.b64encode(f"x-token-auth:{token}".encode()).decode()}
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                chunk = self.rfile.read(size + 2)
                if size == 0:
                    return out
                out += chunk[:size]
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))
    def send(self, status, headers, body):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True
    def handle_any(self):
        body = self.body()
        if self.headers.get("Authorization") not in accepted:
            return self.send(401, [("WWW-Authenticate", 'Basic realm="git"')], b"bad token\n")
        path, _, query = self.path.partition("?")
        if "/statuses/build" in path or path.startswith("/rest/build-status/"):
            s = json.loads(body or b"{}")
            print(f"bitbucket status {s.get('state')} on {path.split('/')[-3] if 'statuses' in path else path.split('/')[-1]}: {s.get('description')}", flush=True)
            return self.send(201, [("Content-Type", "application/json")], body)
        env = {"PATH": os.environ["PATH"], "GIT_PROJECT_ROOT": root, "GIT_HTTP_EXPORT_ALL": "1",
               "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
               "REQUEST_METHOD": self.command, "PATH_INFO": path, "QUERY_STRING": query,
               "CONTENT_TYPE": self.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(len(body)),
               "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""), "REMOTE_ADDR": "127.0.0.1"}
        out = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True).stdout
        head, _, rest = out.partition(b"\r\n\r\n")
        status, headers = 200, []
        for line in head.decode().split("\r\n"):
            k, _, v = line.partition(":")
            if k.lower() == "status":
                status = int(v.split()[0])
            elif k:
                headers.append((k, v.strip()))
        self.send(status, headers, rest)
    do_GET = do_POST = handle_any
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
"$VENV/bin/python" "$WORK/server.py" "$WORK/srv" "$TOKEN" "$GIT_PORT" >"$WORK/git-server.log" 2>&1 &
SERVER_PID=$!
trap 'kill $SERVER_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -fsS -o /dev/null 2>/dev/null -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$GIT_PORT/config.git/info/refs?service=git-upload-pack" && break; sleep 0.2; done
echo "    git server + Bitbucket status stub on http://127.0.0.1:$GIT_PORT (log $WORK/git-server.log)"

echo "--- moto Secrets Manager: webhook secret and access token"
read -r WEBHOOK_SECRET_ARN TOKEN_SECRET_ARN < <("$VENV/bin/python" - "$WEBHOOK_SECRET" "$TOKEN" <<'PY'
import sys, uuid, boto3
sm = boto3.client("secretsmanager")
suffix = uuid.uuid4().hex[:8]
a = sm.create_secret(Name=f"config-updater/webhook-{suffix}", SecretString=sys.argv[1])["ARN"]
b = sm.create_secret(Name=f"config-updater/token-{suffix}", SecretString=sys.argv[2])["ARN"]
print(a, b)
PY
)

export CONFIG_REPO_URL="http://127.0.0.1:$GIT_PORT/config.git" CONFIG_REPO_BRANCH=main
export BITBUCKET_REPOSITORY=ops/prometheus-config BITBUCKET_FLAVOR=cloud BITBUCKET_API_URL="http://127.0.0.1:$GIT_PORT"
export WEBHOOK_SECRET_ARN BITBUCKET_TOKEN_SECRET_ARN="$TOKEN_SECRET_ARN"
export PROMETHEUS_CONFIG_DIR="$EFS_MOUNT" PROMETHEUS_URL CLUSTER=demo ACCOUNT_ALIAS=demo PRODUCT=demo RUST_LOG="${RUST_LOG:-warn}"

echo "--- build"
cargo build --quiet -p config-updater
BIN=target/debug/config-updater

echo "--- config-updater check examples/config-repo (what the config repo's CI runs)"
"$BIN" check examples/config-repo

echo "--- config-updater sync: first start deploys the branch head"
"$BIN" sync

echo "--- commit a new rule and send the signed repo:push webhook"
mkdir -p "$WORK/work/rules"
cat > "$WORK/work/rules/demo.yml" <<'YAML'
groups:
  - name: demo
    rules:
      - alert: DemoRuleAdded
        expr: vector(1) > 0
        labels:
          severity: info
        annotations:
          summary: "Deployed by config-updater from a webhook"
YAML
git_ -C "$WORK/work" add -A
git_ -C "$WORK/work" commit --quiet -m "demo rule"
git_ -C "$WORK/work" push --quiet "$WORK/srv/config.git" HEAD:main
COMMIT=$(git -C "$WORK/work" rev-parse HEAD)
"$VENV/bin/python" - "$WEBHOOK_SECRET" "$COMMIT" > "$WORK/push.json" <<'PY'
import hashlib, hmac, json, sys
secret, commit = sys.argv[1].encode(), sys.argv[2]
body = json.dumps({"repository": {"full_name": "ops/prometheus-config"}, "push": {"changes": [
    {"new": {"type": "branch", "name": "main", "target": {"hash": commit}}, "old": {"type": "branch", "name": "main"}}]}})
sig = "sha256=" + hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()
print(json.dumps({"version": "2.0", "rawPath": "/", "requestContext": {"http": {"method": "POST", "path": "/"}},
    "headers": {"x-event-key": "repo:push", "x-hub-signature": sig, "content-type": "application/json"},
    "body": body, "isBase64Encoded": False}))
PY
"$BIN" invoke "$WORK/push.json"
echo "--- build statuses Bitbucket received"
cat "$WORK/git-server.log"

echo "--- Prometheus rules now:"
curl -fsS "$PROMETHEUS_URL/api/v1/rules" | "$VENV/bin/python" -c '
import json, sys
for g in json.load(sys.stdin)["data"]["groups"]:
    print("   ", g["name"] + ":", ", ".join(r["name"] for r in g["rules"]))'
curl -fsS "$PROMETHEUS_URL/api/v1/rules" | grep -q DemoRuleAdded || { echo "DemoRuleAdded is not loaded" >&2; exit 1; }
echo "==> the new rule: $PROMETHEUS_URL/rules   (alert: $PROMETHEUS_URL/alerts)"
