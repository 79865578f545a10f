#!/usr/bin/env bash
# Builds the plugin's container image from the release tarball (see Dockerfile).
#
#   scripts/container.sh [extra options for `<engine> build`…]
#
#   PROGRAM       pagerduty (default): the Dockerfile stage and the tarball to use
#   IMAGE         image name (default: teleport-plugin-$PROGRAM:<version>)
#   ENGINE        build command, split on spaces (default: podman if installed, else docker)
#   BASE, BUILDER_BASE  passed as build args (see Dockerfile); defaults are Debian bookworm-slim
#   DIST_DIR      where the release is (default: <repo>/dist)
#   DENO          the deno to use (default: deno on PATH)
#   SKIP_RELEASE=1  use the tarball already in $DIST_DIR instead of running scripts/release.sh
#
# Podman on some hosts needs `--runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024`:
# pass them as extra options.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROGRAM="${PROGRAM:-pagerduty}"
DIST_DIR="${DIST_DIR:-$ROOT/dist}"
log() { printf 'container: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [[ -z "${ENGINE:-}" ]]; then
  if command -v podman >/dev/null 2>&1; then ENGINE=podman; elif command -v docker >/dev/null 2>&1; then ENGINE=docker; else
    die "neither podman nor docker is installed (set ENGINE)"
  fi
fi
read -ra ENGINE_CMD <<<"$ENGINE"

VERSION="$(cd "$ROOT" && "${DENO:-deno}" eval --quiet 'console.log(JSON.parse(Deno.readTextFileSync("deno.json")).version)')"
IMAGE="${IMAGE:-teleport-plugin-$PROGRAM:$VERSION}"
TARBALL="teleport-access-$PROGRAM-v$VERSION-linux-amd64-bin.tar.gz"

if [[ "${SKIP_RELEASE:-}" != 1 ]]; then
  PROGRAM="$PROGRAM" DIST_DIR="$DIST_DIR" bash "$ROOT/scripts/release.sh" || die "the release build failed"
fi
[[ -f "$DIST_DIR/$TARBALL" && -f "$DIST_DIR/SHA256SUMS" ]] || die "$DIST_DIR has no $TARBALL and SHA256SUMS (run scripts/release.sh)"

CTX="$(mktemp -d "${TMPDIR:-/tmp}/teleport-$PROGRAM-image.XXXXXX")"
trap 'rm -rf "$CTX"' EXIT
cp "$ROOT/Dockerfile" "$DIST_DIR/SHA256SUMS" "$DIST_DIR/$TARBALL" "$CTX/"

args=(build --target "$PROGRAM" --build-arg "PROGRAM=$PROGRAM" --build-arg "VERSION=$VERSION" -t "$IMAGE")
[[ -z "${BASE:-}" ]] || args+=(--build-arg "BASE=$BASE")
[[ -z "${BUILDER_BASE:-}" ]] || args+=(--build-arg "BUILDER_BASE=$BUILDER_BASE")
log "building $IMAGE with ${ENGINE_CMD[*]}"
"${ENGINE_CMD[@]}" "${args[@]}" "$@" "$CTX" >&2 || die "${ENGINE_CMD[0]} build failed"
log "image: $IMAGE"
