#!/usr/bin/env bash
# Checks template.yaml offline: cfn-lint, `sam validate --lint`, checkov, in both StackMode values.
# Every checkov finding is either fixed or skipped in the resource's Metadata with the reason, so
# any new one fails here. The tools come from scripts/setup.sh (linked into $PROMSTACK_VENV/bin).
#
#   scripts/check-template.sh          # the checks (seconds, no network, no AWS account)
#
# Modes: cfn-lint evaluates every combination of conditions itself, so one run covers both. sam
# and checkov see one deploy: checkov drops the resources whose condition is false under the
# parameters' defaults. So both also run on a copy of the template whose defaults are a
# functions-only deploy (FUNCTIONS_ONLY below), rendered to JSON by cfn-lint's own YAML reader.
#
# `sam build` is not run here: it cross-compiles the three functions for arm64 with
# `cargo lambda build --release --arm64`, which needs the aarch64-unknown-linux-gnu standard
# library (`rustup target add`), and a fat-LTO release build of each function; see docs/development.md, Checks in CI.
set -euo pipefail

cd "$(dirname "$0")/.."
VENV="${PROMSTACK_VENV:-$HOME/.cache/promstack/venv}"
TEMPLATE="${TEMPLATE:-template.yaml}"

# A functions-only deploy against existing parts (made-up ids of the right shape).
FUNCTIONS_ONLY=(
  StackMode=functions-only
  ExistingFileSystemId=fs-0123456789abcdef0
  ExistingLambdaSecurityGroupIds=sg-0123456789abcdef0
  ExistingPrometheusUrls=http://prometheus-a.internal:9090,http://prometheus-b.internal:9090
  ExistingRemoteWriteUrl=http://prometheus-a.internal:9090/api/v1/write
  ExistingBucket=metrics-state
  ExistingClusterName=monitoring
)

for tool in cfn-lint sam checkov python; do
  if [ ! -x "$VENV/bin/$tool" ]; then
    echo "check-template: $VENV/bin/$tool is missing; run scripts/setup.sh" >&2
    exit 1
  fi
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# template.yaml with other parameter defaults, as JSON (every intrinsic function kept as is).
render() { # out.json NAME=VALUE...
  "$VENV/bin/python" - "$TEMPLATE" "$@" <<'PY'
import json, sys
from cfnlint.decode import decode

template, problems = decode(sys.argv[1])
if problems:
    sys.exit("\n".join(str(p) for p in problems))
for pair in sys.argv[3:]:
    name, value = pair.split("=", 1)
    if name not in template["Parameters"]:
        sys.exit(f"check-template: {name} is not a parameter of {sys.argv[1]}")
    template["Parameters"][name]["Default"] = value
with open(sys.argv[2], "w") as out:
    json.dump(template, out, indent=1)
PY
}

# cfn-lint resolves each Ref to a parameter's default, also inside the !If branch only the other
# mode takes. The empty defaults of these two (used only by functions-only, where the Rules
# require them set) are reported at the parameter, where no Metadata can silence them; every
# other finding fails the check.
EXPECTED_CFN_LINT='W1030 Parameters/ExistingFileSystemId/Default W1030 Parameters/ExistingLambdaSecurityGroupIds/Default'

echo "==> cfn-lint $TEMPLATE (every condition scenario, so both modes)"
"$VENV/bin/cfn-lint" --format json -- "$TEMPLATE" >"$work/cfn-lint.json" || true
"$VENV/bin/python" - "$work/cfn-lint.json" "$EXPECTED_CFN_LINT" <<'PY'
import json, sys

expected = set(zip(*[iter(sys.argv[2].split())] * 2))
unexpected = []
for f in json.load(open(sys.argv[1])):
    where = "/".join(str(p) for p in f["Location"]["Path"])
    if (f["Rule"]["Id"], where) not in expected:
        unexpected.append(f"{f['Filename']}:{f['Location']['Start']['LineNumber']}: {f['Rule']['Id']} {f['Message']}")
if unexpected:
    sys.exit("\n".join(unexpected))
PY

render "$work/functions-only.json" "${FUNCTIONS_ONLY[@]}"
# `sam validate --lint` runs cfn-lint with no way to accept the two findings above: its whole-mode
# copy fills those two defaults with ids of the right shape, which a whole deploy never reads.
render "$work/whole.json" ExistingFileSystemId=fs-0123456789abcdef0 ExistingLambdaSecurityGroupIds=sg-0123456789abcdef0

# --lint runs cfn-lint through SAM's own transform and needs no AWS call; the region and the
# dummy credentials only keep the CLI from looking for a profile.
sam_validate() { # template
  env -u AWS_PROFILE -u AWS_SESSION_TOKEN \
    AWS_ACCESS_KEY_ID=promstack-check AWS_SECRET_ACCESS_KEY=promstack-check \
    AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 \
    SAM_CLI_TELEMETRY=0 SAM_CLI_CONTACT_TRACKER=0 \
    "$VENV/bin/sam" validate --lint --region us-east-1 --template-file "$1"
}
echo "==> sam validate --lint $TEMPLATE (StackMode whole)"
sam_validate "$work/whole.json"
echo "==> sam validate --lint (StackMode functions-only)"
sam_validate "$work/functions-only.json"

echo "==> checkov --framework cloudformation $TEMPLATE (StackMode whole)"
"$VENV/bin/checkov" --framework cloudformation --skip-download --compact --quiet --file "$TEMPLATE"
echo "==> checkov --framework cloudformation (StackMode functions-only)"
"$VENV/bin/checkov" --framework cloudformation --skip-download --compact --quiet --file "$work/functions-only.json"

echo "template checks passed in both modes: cfn-lint, sam validate --lint, checkov"
