#!/usr/bin/env bash
# `make lint-deploy` (part of `make test`): cfn-lint, pinned and installed
# from the Python package index into .tickbench/cache by scripts/pyenv.sh,
# on the CloudFormation templates of deploy/aws/, and each of a few broken
# copies must fail it on the rule that names its mistake. (The Kubernetes
# manifests of deploy/kubernetes/ are checked by go test: their package's
# tests and cmd/tickbench's.)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

py="$(bash scripts/pyenv.sh cfn-lint)"
cfnlint="$(dirname "$py")/cfn-lint"

files=(deploy/aws/*.yaml)
"$cfnlint" "${files[@]}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# broken NAME RULE SED: a copy of tickbench.yaml changed by SED must fail
# with RULE among cfn-lint's findings.
broken() {
  local name="$1" rule="$2" expr="$3"
  sed -e "$expr" deploy/aws/tickbench.yaml >"$tmp/$name.yaml"
  if cmp -s deploy/aws/tickbench.yaml "$tmp/$name.yaml"; then
    echo "broken copy '$name': '$expr' changed nothing" >&2
    exit 1
  fi
  if "$cfnlint" "$tmp/$name.yaml" >"$tmp/$name.out" 2>&1; then
    echo "cfn-lint passed a broken template ($name):" >&2
    exit 1
  fi
  grep -q "$rule" "$tmp/$name.out" || { echo "cfn-lint failed the broken copy '$name', but not on $rule:" >&2; cat "$tmp/$name.out" >&2; exit 1; }
}
broken misspelt-property E3002 's/^        InstanceType: !Ref BrokerInstanceType/        InstanceTyp: !Ref BrokerInstanceType/'
broken bad-attribute E1010 's/!GetAtt WorkerInstanceProfile.Arn/!GetAtt WorkerInstanceProfile.Arm/'
broken wrong-type E3012 's/EnforceWorkGroupConfiguration: true/EnforceWorkGroupConfiguration: [true]/'
broken unknown-reference E1020 's/GroupId: !Ref WorkerSecurityGroup/GroupId: !Ref WorkersSecurityGroup/'
echo "deploy/aws: ${files[*]} pass cfn-lint $("$cfnlint" --version | awk '{print $2}'); 4 broken copies fail it on the rule of their mistake"
