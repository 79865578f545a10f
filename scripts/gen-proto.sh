#!/usr/bin/env bash
# Regenerates src/teleport/gen/ from proto/ with protobuf-es.
# The code generators come from the npm registry and are installed into a
# throwaway directory, so no package.json or node_modules lands in the repo.
set -euo pipefail

BUF_VERSION=1.75.0
PROTOC_GEN_ES_VERSION=2.17.0

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools_dir="$(mktemp -d)"
trap 'rm -rf "$tools_dir"' EXIT

(
  cd "$tools_dir"
  npm init -y >/dev/null
  npm install --silent --no-audit --no-fund --ignore-scripts \
    "@bufbuild/buf@${BUF_VERSION}" "@bufbuild/protoc-gen-es@${PROTOC_GEN_ES_VERSION}"
)

cat >"$tools_dir/buf.gen.yaml" <<YAML
version: v2
inputs:
  - directory: ${repo_root}/proto
plugins:
  - local: ${tools_dir}/node_modules/.bin/protoc-gen-es
    out: ${repo_root}/src/teleport/gen
    opt:
      - target=ts
      - import_extension=ts
YAML

rm -rf "$repo_root/src/teleport/gen"
(cd "$tools_dir" && ./node_modules/.bin/buf generate --template buf.gen.yaml)
echo "generated: $(find "$repo_root/src/teleport/gen" -name '*.ts' | wc -l) files in src/teleport/gen"
