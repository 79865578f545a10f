#!/usr/bin/env bash
# Release build of a Teleport Access Request plugin.
#
#   scripts/release.sh                    (or: deno task release)
#   PROGRAM=pagerduty scripts/release.sh  (the default; the programs are listed in `case` below)
#   PROGRAM=opsgenie scripts/release.sh   (teleport-opsgenie)
#
# Produces, in $DIST_DIR (default: <repo>/dist), for NAME=teleport-$PROGRAM:
#   NAME.bundle.js                                        deno bundle --platform deno
#   teleport-access-$PROGRAM-v<version>-linux-amd64-bin.tar.gz
#       NAME/{NAME,install,README.md,NAME.toml,NAME.service}, and in the launcher flavour
#       NAME/lib/NAME/{deno,NAME.bundle.js}
#   SHA256SUMS                                            sha256sum of every tarball in $DIST_DIR
#
# NAME/NAME is always a working executable, in one of two flavours (printed at the end,
# and by `NAME version`):
#   compiled  `deno compile` with the release permissions. Needs Deno's denort runtime
#             (DENORT_BIN, Deno's cache, or a download from dl.deno.land).
#   launcher  when denort is unavailable: a /bin/sh launcher that runs the bundle with the
#             pinned Deno runtime from npm (scripts/deno-runtime.pin: version and sha256 of
#             the package and of the binary, both verified) under the release permissions,
#             in a clean environment (deploy/launcher.sh says what it shuts out).
# RELEASE_FLAVOUR=compiled|launcher forces one (default: auto). The runtime package is taken
# from DENO_RUNTIME_TGZ when set, else fetched with `npm pack` into a cache
# ($DENO_RUNTIME_CACHE, default ~/.cache/teleport-plugins-release) and checked there.
#
# The version (deno.json "version"), git ref (`git rev-parse --short HEAD`, "dev" outside
# git) and flavour are stamped into src/version.ts of a temporary copy of the sources; the
# working tree is never modified. Any failure exits non-zero with one line saying why.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIST_DIR="${DIST_DIR:-$ROOT/dist}"
PROGRAM="${PROGRAM:-pagerduty}"
RELEASE_FLAVOUR="${RELEASE_FLAVOUR:-auto}"
TARGET="x86_64-unknown-linux-gnu"
export DENO_NO_UPDATE_CHECK=1
DENO="${DENO:-deno}"

log() { printf 'release: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# One line per program: entry point, permission set in deno.json, display name.
case "$PROGRAM" in
  pagerduty) ENTRY=src/main.ts PERMISSION_SET=plugin TITLE=PagerDuty ;;
  opsgenie) ENTRY=src/main_opsgenie.ts PERMISSION_SET=plugin-opsgenie TITLE=Opsgenie ;;
  *) die "unknown PROGRAM=$PROGRAM (known: pagerduty, opsgenie)" ;;
esac
case "$RELEASE_FLAVOUR" in
  auto | compiled | launcher) ;;
  *) die "RELEASE_FLAVOUR must be auto, compiled or launcher (got $RELEASE_FLAVOUR)" ;;
esac
NAME="teleport-$PROGRAM"

command -v "$DENO" >/dev/null 2>&1 || die "deno not found on PATH"
mkdir -p "$DIST_DIR"
DIST_DIR="$(cd "$DIST_DIR" && pwd)"

VERSION="$(cd "$ROOT" && "$DENO" eval --quiet 'console.log(JSON.parse(Deno.readTextFileSync("deno.json")).version ?? "")')"
[[ -n "$VERSION" ]] || die "deno.json has no \"version\""
GIT_REF="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo dev)"
TARBALL_NAME="teleport-access-$PROGRAM-v$VERSION-linux-amd64-bin.tar.gz"
TARBALL="$DIST_DIR/$TARBALL_NAME"
BUNDLE="$DIST_DIR/$NAME.bundle.js"
OUT_DIR="$DIST_DIR/$NAME"
BINARY="$OUT_DIR/$NAME"
VERSION_PREFIX="$NAME v$VERSION git:$GIT_REF "
log "building $NAME v$VERSION (git:$GIT_REF) into $DIST_DIR"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/$NAME-release.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# npm dependencies, from the lockfile (no-op when node_modules is current).
(cd "$ROOT" && "$DENO" install --quiet --frozen) || die "deno install --frozen failed (is deno.lock current?)"

# Temporary copy of the sources with the stamped version module.
SRC="$WORK/src-copy"
mkdir -p "$SRC"
cp -R "$ROOT/src" "$ROOT/deno.json" "$SRC/"
[[ -f "$ROOT/deno.lock" ]] && cp "$ROOT/deno.lock" "$SRC/"
ln -s "$ROOT/node_modules" "$SRC/node_modules"
VERSION_TS="$SRC/src/version.ts"

# stamp FLAVOUR: writes VERSION, GIT_REF and FLAVOUR into the copy's src/version.ts.
stamp() {
  sed -i -E \
    -e "s|^(export const VERSION[^=]*= *)\"[^\"]*\";|\1\"$VERSION\";|" \
    -e "s|^(export const GIT_REF[^=]*= *)\"[^\"]*\";|\1\"$GIT_REF\";|" \
    -e "s|^(export const FLAVOUR[^=]*= *)\"[^\"]*\";|\1\"$1\";|" "$VERSION_TS"
  grep -q "^export const VERSION.*\"$VERSION\";" "$VERSION_TS" &&
    grep -q "^export const GIT_REF.*\"$GIT_REF\";" "$VERSION_TS" &&
    grep -q "^export const FLAVOUR.*\"$1\";" "$VERSION_TS" ||
    die "could not stamp src/version.ts (expected 'export const VERSION|GIT_REF|FLAVOUR…= \"…\";')"
}

# Release permissions as explicit flags (for running the bundle without deno.json), and
# the environment variables they let the plugin read (the launcher passes only those on).
mapfile -t PERM_FLAGS < <(cd "$ROOT" && "$DENO" run --quiet --allow-read=deno.json scripts/permission_flags.ts --set "$PERMISSION_SET")
[[ ${#PERM_FLAGS[@]} -gt 0 ]] || die "scripts/permission_flags.ts printed no flags"
ENV_NAMES="$(cd "$ROOT" && "$DENO" eval --quiet "
  const env = JSON.parse(Deno.readTextFileSync('deno.json')).permissions?.['$PERMISSION_SET']?.env;
  console.log((Array.isArray(env) ? env : Array.isArray(env?.allow) ? env.allow : []).join(' '));")"
V8_FLAG="$(printf '%s\n' "${PERM_FLAGS[@]}" | grep -- '^--v8-flags=' || true)"
[[ -n "$V8_FLAG" ]] || die "scripts/permission_flags.ts printed no --v8-flags"
for flag in "${PERM_FLAGS[@]}"; do
  [[ "$flag" =~ ^--[a-z0-9-]+(=[A-Za-z0-9_.,/:=-]+)?$ ]] || die "permission flag not safe to put in a shell script: $flag"
done
for var in $ENV_NAMES; do
  [[ "$var" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "permissions.$PERMISSION_SET.env has a name that is not a variable name: $var"
done

rm -rf "$OUT_DIR" "$BUNDLE" "$TARBALL"
mkdir -p "$OUT_DIR"

# 1. Bundle (stamped for the launcher, which ships it), then smoke-test it from an empty
#    directory with an empty DENO_DIR.
stamp launcher
(cd "$SRC" && "$DENO" bundle --quiet --platform deno -o "$BUNDLE" "$ENTRY") || die "deno bundle failed"
mkdir -p "$WORK/empty" "$WORK/deno-dir"
cp "$BUNDLE" "$WORK/empty/"
SMOKE="$(cd "$WORK/empty" && DENO_DIR="$WORK/deno-dir" "$DENO" run --quiet "${PERM_FLAGS[@]}" "$NAME.bundle.js" version)" ||
  die "the bundle does not run: 'deno run <release permissions> $NAME.bundle.js version' failed"
[[ "$SMOKE" == "$VERSION_PREFIX"* ]] || die "unexpected version line from the bundle: $SMOKE"
log "bundle: $BUNDLE ($SMOKE)"

# 2. Example config, from the stamped sources with the release permissions.
(cd "$SRC" && "$DENO" run --quiet -P="$PERMISSION_SET" "$ENTRY" configure >"$OUT_DIR/$NAME.toml" 2>"$WORK/configure.err") || {
  cat "$WORK/configure.err" >&2
  die "could not generate the example config: 'deno run $ENTRY configure' failed"
}
[[ -s "$OUT_DIR/$NAME.toml" ]] || die "'deno run $ENTRY configure' printed nothing"

# 3a. Compiled flavour: deno compile, when denort is at hand.
FLAVOUR=""
if [[ "$RELEASE_FLAVOUR" != launcher ]]; then
  if [[ -n "${DENORT_BIN:-}" && ! -x "$DENORT_BIN" ]]; then
    die "DENORT_BIN=$DENORT_BIN is not an executable file"
  fi
  stamp compiled
  if (cd "$SRC" && "$DENO" compile --quiet --target "$TARGET" -P="$PERMISSION_SET" "$V8_FLAG" -o "$BINARY" "$ENTRY") >"$WORK/compile.log" 2>&1; then
    OUT="$("$BINARY" version 2>&1)" || true
    if [[ "$OUT" != "$VERSION_PREFIX"*"(compiled)" ]]; then
      rm -f "$BINARY"
      die "the compiled binary does not work ('$NAME version' printed: ${OUT%%$'\n'*})${DENORT_BIN:+; is DENORT_BIN=$DENORT_BIN a denort runtime rather than the deno CLI?}"
    fi
    FLAVOUR=compiled
  elif [[ -z "${DENORT_BIN:-}" && "$RELEASE_FLAVOUR" == auto ]] && grep -qE 'denort|dl\.deno\.land' "$WORK/compile.log"; then
    rm -f "$BINARY"
    log "deno compile needs the denort runtime from dl.deno.land, which is unreachable here (set DENORT_BIN to a denort binary); building the launcher flavour instead"
  else
    cat "$WORK/compile.log" >&2
    die "deno compile failed"
  fi
fi

# 3b. Launcher flavour: the pinned Deno runtime from npm + the bundle + deploy/launcher.sh.
# fetch_runtime DEST: puts the verified pinned deno binary at DEST.
fetch_runtime() {
  local pin="$ROOT/scripts/deno-runtime.pin" tgz cache
  # shellcheck source=deno-runtime.pin
  . "$pin"
  local file="deno-${DENO_RUNTIME_PACKAGE#@deno/}-$DENO_RUNTIME_VERSION.tgz"
  if [[ -n "${DENO_RUNTIME_TGZ:-}" ]]; then
    tgz="$DENO_RUNTIME_TGZ"
    [[ -f "$tgz" ]] || die "DENO_RUNTIME_TGZ=$tgz is not a file"
  else
    cache="${DENO_RUNTIME_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/teleport-plugins-release}"
    tgz="$cache/$file"
    if [[ ! -f "$tgz" ]] || [[ "$(sha256sum "$tgz" | cut -d' ' -f1)" != "$DENO_RUNTIME_TGZ_SHA256" ]]; then
      command -v npm >/dev/null 2>&1 ||
        die "npm not found: the launcher flavour needs $DENO_RUNTIME_PACKAGE@$DENO_RUNTIME_VERSION from npm (or DENO_RUNTIME_TGZ=<its .tgz>)"
      mkdir -p "$cache" "$WORK/npm"
      (cd "$WORK/npm" && npm pack --silent "$DENO_RUNTIME_PACKAGE@$DENO_RUNTIME_VERSION" >/dev/null 2>"$WORK/npm.log") || {
        cat "$WORK/npm.log" >&2
        die "npm pack $DENO_RUNTIME_PACKAGE@$DENO_RUNTIME_VERSION failed"
      }
      [[ -f "$WORK/npm/$file" ]] || die "npm pack did not produce $file"
      mv -f "$WORK/npm/$file" "$tgz"
    fi
  fi
  local got
  got="$(sha256sum "$tgz" | cut -d' ' -f1)"
  [[ "$got" == "$DENO_RUNTIME_TGZ_SHA256" ]] ||
    die "$tgz: sha256 $got, but scripts/deno-runtime.pin pins $DENO_RUNTIME_TGZ_SHA256"
  mkdir -p "$WORK/runtime"
  tar -xzf "$tgz" -C "$WORK/runtime" package/deno || die "$tgz has no package/deno"
  got="$(sha256sum "$WORK/runtime/package/deno" | cut -d' ' -f1)"
  [[ "$got" == "$DENO_RUNTIME_BIN_SHA256" ]] ||
    die "package/deno in $tgz: sha256 $got, but scripts/deno-runtime.pin pins $DENO_RUNTIME_BIN_SHA256"
  install -m 0755 "$WORK/runtime/package/deno" "$1"
  log "deno runtime: $DENO_RUNTIME_PACKAGE@$DENO_RUNTIME_VERSION (package sha256 $DENO_RUNTIME_TGZ_SHA256, deno sha256 $DENO_RUNTIME_BIN_SHA256)"
}

if [[ -z "$FLAVOUR" ]]; then
  LIB="$OUT_DIR/lib/$NAME"
  mkdir -p "$LIB"
  fetch_runtime "$LIB/deno"
  install -m 0644 "$BUNDLE" "$LIB/$NAME.bundle.js"
  . "$ROOT/scripts/deno-runtime.pin"
  sed -e "s|@NAME@|$NAME|g" \
    -e "s|@DENO_RUNTIME@|$DENO_RUNTIME_PACKAGE@$DENO_RUNTIME_VERSION|g" \
    -e "s|@PERMISSION_FLAGS@|${PERM_FLAGS[*]}|g" \
    -e "s|@ENV_NAMES@|$ENV_NAMES|g" "$ROOT/deploy/launcher.sh" >"$BINARY"
  chmod 0755 "$BINARY"
  ! grep -q '@[A-Z_]*@' "$BINARY" || die "deploy/launcher.sh has a placeholder release.sh does not fill: $(grep -o '@[A-Z_]*@' "$BINARY" | head -1)"
  # The launcher must work from an empty environment, from an empty directory.
  OUT="$(cd "$WORK/empty" && env -i "$BINARY" version 2>&1)" || die "the launcher does not run: '$NAME version' printed: $OUT"
  [[ "$OUT" == "$VERSION_PREFIX"*"(launcher)" ]] || die "unexpected version line from the launcher: $OUT"
  FLAVOUR=launcher
fi
log "executable: $BINARY ($FLAVOUR flavour: $OUT)"

# 4. Tarball and checksums.
sed -E "s|^PROGRAM=[a-z]+$|PROGRAM=$PROGRAM|" "$ROOT/deploy/install" >"$OUT_DIR/install"
sed -e "s|@NAME@|$NAME|g" -e "s|@PROGRAM@|$PROGRAM|g" -e "s|@TITLE@|$TITLE|g" \
  "$ROOT/deploy/teleport-plugin.service" >"$OUT_DIR/$NAME.service"
cp "$ROOT/deploy/README.md" "$OUT_DIR/README.md"
chmod 0755 "$OUT_DIR/install"
chmod 0644 "$OUT_DIR/README.md" "$OUT_DIR/$NAME.service" "$OUT_DIR/$NAME.toml"
tar -C "$DIST_DIR" --sort=name --owner=0 --group=0 --numeric-owner -czf "$TARBALL" "$NAME" || die "tar failed"
(cd "$DIST_DIR" && sha256sum teleport-access-*-linux-amd64-bin.tar.gz >SHA256SUMS) || die "sha256sum failed"
log "tarball: $TARBALL ($FLAVOUR flavour); checksums: $DIST_DIR/SHA256SUMS"
