#!/usr/bin/env bash
# Checks template.yaml offline: cfn-lint, `sam validate --lint`, checkov. Every checkov finding is
# either fixed or skipped in the resource's Metadata with the reason, so any new one fails here.
# The tools come from scripts/setup.sh (linked into $PROMSTACK_VENV/bin).
#
#   scripts/check-template.sh          # the three checks (seconds, no network, no AWS account)
#
# `sam build` is not run here: it cross-compiles the three functions for arm64 with
# `cargo lambda build --release --arm64`, which needs the aarch64-unknown-linux-gnu standard
# library (`rustup target add`), and a fat-LTO release build of each function; see docs/deploy.md.
set -euo pipefail

cd "$(dirname "$0")/.."
VENV="${PROMSTACK_VENV:-$HOME/.cache/promstack/venv}"
TEMPLATE="${TEMPLATE:-template.yaml}"

for tool in cfn-lint sam checkov; do
  if [ ! -x "$VENV/bin/$tool" ]; then
    echo "check-template: $VENV/bin/$tool is missing; run scripts/setup.sh" >&2
    exit 1
  fi
done

echo "==> cfn-lint $TEMPLATE"
"$VENV/bin/cfn-lint" "$TEMPLATE"

# --lint runs cfn-lint through SAM's own transform and needs no AWS call; the region and the
# dummy credentials only keep the CLI from looking for a profile.
echo "==> sam validate --lint $TEMPLATE"
env -u AWS_PROFILE -u AWS_SESSION_TOKEN \
  AWS_ACCESS_KEY_ID=promstack-check AWS_SECRET_ACCESS_KEY=promstack-check \
  AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 \
  SAM_CLI_TELEMETRY=0 SAM_CLI_CONTACT_TRACKER=0 \
  "$VENV/bin/sam" validate --lint --region us-east-1 --template-file "$TEMPLATE"

echo "==> checkov --framework cloudformation $TEMPLATE"
"$VENV/bin/checkov" --framework cloudformation --skip-download --compact --quiet \
  --file "$TEMPLATE"

echo "template checks passed: cfn-lint, sam validate --lint, checkov"
