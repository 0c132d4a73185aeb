# syntax=docker/dockerfile:1
#
# Container images of the extension (docs/deployment.md):
#   docker build --target gardener-extension-networking-calico -t <registry>/networking-calico:<tag> .
#   docker build --target gardener-extension-admission-calico  -t <registry>/admission-calico:<tag> .
# Both runtime images carry both executables (shared layers) and differ only in the entrypoint.
# Build for another platform with `docker buildx build --platform linux/arm64 ...`.

# Builder and runtime must agree on the C library: swift:*-bookworm and distroless/cc-debian12 are
# both Debian 12 (glibc 2.36). --static-swift-stdlib links the Swift runtime and Foundation into the
# binaries, so the runtime image needs glibc, libstdc++ and libgcc_s — distroless/cc — and zlib,
# which the build stage adds from the builder's Debian 12 zlib1g (see below).
ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot
ARG CNI_PLUGINS_VERSION=v1.9.0

############################################################ builder
FROM ${SWIFT_IMAGE} AS builder
WORKDIR /src

# Resolve dependencies in their own layer, so source changes do not refetch them.
COPY Package.swift Package.resolve[d] ./
RUN swift package resolve

# The manifest names every target, so all target directories must be present.
COPY Sources ./Sources
COPY Tests ./Tests
COPY Plugins ./Plugins
COPY VERSION ./VERSION
COPY hack/controller.order ./hack/controller.order

# The version stamped into both binaries by the BuildStamp plugin (docs/deployment.md): VERSION,
# unless EFFECTIVE_VERSION is given; commit, tree state and date as `make docker-images` passes them.
ARG EFFECTIVE_VERSION=""
ARG GIT_COMMIT=""
ARG GIT_TREE_STATE=""
ARG BUILD_DATE=""

# Besides --static-swift-stdlib, the flags of `make static-controller` (Makefile, where they are
# explained): one section per function, lld with packed relocations (glibc >= 2.36, as in the
# runtime image), no exported symbols, and the controller's start/idle functions placed together
# (hack/controller.order). They take the idle controller from 38 to about 23 MiB RSS
# (bench/results.md, "idle RSS"); behaviour is unchanged.
# Resource bundles (e.g. CalicoManifests' image vector) are looked up next to the executable,
# so they are copied beside the binaries. Only the two shipped products are built: the development
# executables (calico-dev with the embedded API server and local mode, calico-bench) stay out.
# swift-nio-extras (HTTP decompression) links libz.so.1, which distroless/cc-debian12 lacks: the
# library, its copyright and a status.d entry of the builder's zlib1g go into /out (`make image-check`
# runs the binaries in the runtime stage's files without Docker; docs/deployment.md).
ARG LAYOUT_FLAGS="-Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections \
 -Xswiftc -use-ld=lld -Xlinker --no-export-dynamic -Xlinker -z -Xlinker pack-relative-relocs \
 -Xlinker --symbol-ordering-file=/src/hack/controller.order -Xlinker --no-warn-symbol-ordering"
RUN set -eu; \
    export EFFECTIVE_VERSION GIT_COMMIT GIT_TREE_STATE BUILD_DATE; \
    swift build -c release --static-swift-stdlib --product gardener-extension-networking-calico ${LAYOUT_FLAGS}; \
    swift build -c release --static-swift-stdlib --product gardener-extension-admission-calico ${LAYOUT_FLAGS}; \
    bin="$(swift build -c release --show-bin-path)"; \
    mkdir -p /out; \
    cp "${bin}/gardener-extension-networking-calico" "${bin}/gardener-extension-admission-calico" /out/; \
    for bundle in "${bin}"/*.resources; do \
        if [ -e "${bundle}" ]; then cp -R "${bundle}" /out/; fi; \
    done; \
    for f in $(dpkg -L zlib1g); do \
        case "${f}" in *.so*|*/copyright) if [ -f "${f}" ]; then mkdir -p "/out$(dirname "${f}")"; cp -a "${f}" "/out${f}"; fi;; esac; \
    done; \
    mkdir -p /out/var/lib/dpkg/status.d; \
    dpkg-query -s zlib1g > /out/var/lib/dpkg/status.d/zlib1g; \
    strip /out/gardener-extension-networking-calico /out/gardener-extension-admission-calico; \
    /out/gardener-extension-networking-calico --version; \
    /out/gardener-extension-admission-calico --version=raw

############################################################ cni-plugins (used by Multus' install-cni-plugins)
FROM debian:bookworm-slim AS cni-plugins-builder
ARG CNI_PLUGINS_VERSION
ARG TARGETARCH
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
 && mkdir -p /usr/src/cni/bin \
 && curl -fsSL "https://github.com/containernetworking/plugins/releases/download/${CNI_PLUGINS_VERSION}/cni-plugins-linux-${TARGETARCH:-amd64}-${CNI_PLUGINS_VERSION}.tgz" \
    | tar -xz -C /usr/src/cni/bin

FROM alpine:3.24.1 AS cni-plugins
LABEL io.k8s.display-name="Container Network Plugins"
COPY --from=cni-plugins-builder /usr/src/cni/bin/ /usr/src/cni/bin/

############################################################ runtime
FROM ${RUNTIME_IMAGE} AS runtime
WORKDIR /
COPY --from=builder /out/ /
# distroless "nonroot" (uid/gid 65532); numeric so that `runAsNonRoot: true` can be verified.
USER 65532:65532

FROM runtime AS gardener-extension-admission-calico
ENTRYPOINT ["/gardener-extension-admission-calico"]

# Last stage = default target: the controller (its default subcommand runs the controller manager).
FROM runtime AS gardener-extension-networking-calico
ENTRYPOINT ["/gardener-extension-networking-calico"]
