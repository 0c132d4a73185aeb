#!/usr/bin/env bash
# Regenerates example/controller-registration.yaml (ControllerDeployment embedding the controller
# chart as base64 tgz + ControllerRegistration). Run after every change below charts/gardener-extension-networking-calico.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 hack/controller_registration.py "$@"
