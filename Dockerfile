# Container image of a Teleport Access Request plugin, run like upstream's:
#
#   docker run --rm teleport-plugin-pagerduty:<version> version
#   docker run -v /etc/teleport-pagerduty.toml:/etc/teleport-pagerduty.toml:ro \
#     -v /var/lib/teleport/plugins/pagerduty:/var/lib/teleport/plugins/pagerduty:ro \
#     teleport-plugin-pagerduty:<version>
#
# Build it with scripts/container.sh: it runs scripts/release.sh (the bundle and the pinned
# Deno runtime from npm, checksums verified; or the `deno compile` binary where denort is
# available) and gives this file a build context holding only the release tarball(s) and
# SHA256SUMS. The build stage checks the tarball against SHA256SUMS and installs it with
# the tarball's own `install --prefix`; the runtime stage gets only the installed files.
# One final stage per program (`--target pagerduty`).
#
#   BUILDER_BASE  the build stage: any glibc Linux with sh, env, tar, gzip, sha256sum, cmp, stat
#                 (and coreutils' basics); it runs `version` as a smoke test, so it also needs
#                 what BASE needs
#   BASE          what the plugin runs on. The launcher flavour needs /bin/sh, env(1) and the
#                 libraries of the shipped deno (glibc: libc, libm, libdl, librt, libpthread, and
#                 libgcc_s); the compiled flavour only those libraries (e.g.
#                 gcr.io/distroless/cc-debian12). tests/release/container_test.ts runs it on a
#                 base holding exactly that and nothing else.
ARG BUILDER_BASE=docker.io/library/debian:bookworm-slim
ARG BASE=docker.io/library/debian:bookworm-slim

FROM ${BUILDER_BASE} AS build
ARG PROGRAM=pagerduty
WORKDIR /build
COPY SHA256SUMS teleport-access-*-linux-amd64-bin.tar.gz ./
RUN sha256sum --check --ignore-missing --strict SHA256SUMS \
 && tar -xzf teleport-access-${PROGRAM}-v*-linux-amd64-bin.tar.gz \
 && ./teleport-${PROGRAM}/install --prefix /out \
 && env -i /out/usr/local/bin/teleport-${PROGRAM} version

FROM ${BASE} AS pagerduty
ARG VERSION=unknown
LABEL org.opencontainers.image.title="teleport-plugin-pagerduty" \
      org.opencontainers.image.description="Teleport Access Request plugin for PagerDuty" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/usr/local/ /usr/local/
# Not root: 65532 ("nonroot" in distroless images). The config and credentials are mounted
# read-only and must be readable by this user.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/teleport-pagerduty"]
CMD ["start", "--config", "/etc/teleport-pagerduty.toml"]
