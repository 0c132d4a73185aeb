"""example/controller-registration.yaml embeds the controller chart; it must be fresh and render."""
import base64
import io
import subprocess
import sys
import tarfile

import helm_python as helm
import yaml

from chart_helpers import CONTROLLER_CHART, ROOT, canonical, parse_manifests, render, validate

sys.path.insert(0, str(ROOT / "hack"))
import controller_registration  # noqa: E402

EXAMPLE_FILE = ROOT / "example" / "controller-registration.yaml"


def _docs():
    return [d for d in yaml.safe_load_all(EXAMPLE_FILE.read_text()) if d]


def test_file_is_up_to_date():
    assert EXAMPLE_FILE.read_text() == controller_registration.render(controller_registration.version(from_file_only=True)), \
        "example/controller-registration.yaml is stale: run hack/generate-controller-registration.sh"


def test_check_mode_of_the_script_passes():
    result = subprocess.run([str(ROOT / "hack" / "generate-controller-registration.sh"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_objects():
    deployment, registration = _docs()
    validate(deployment)
    validate(registration)
    assert deployment["apiVersion"] == "core.gardener.cloud/v1"
    assert deployment["kind"] == "ControllerDeployment"
    assert deployment["metadata"]["name"] == "networking-calico"
    assert deployment["helm"]["values"] == {"image": {"tag": controller_registration.version(from_file_only=True)}}
    assert registration["apiVersion"] == "core.gardener.cloud/v1beta1"
    assert registration["kind"] == "ControllerRegistration"
    assert registration["metadata"] == {"name": "networking-calico", "annotations": {
        "security.gardener.cloud/pod-security-enforce": "baseline"}}
    assert registration["spec"] == {"deployment": {"deploymentRefs": [{"name": "networking-calico"}]},
                                    "resources": [{"kind": "Network", "type": "calico"}]}


def test_embedded_chart_is_the_chart_in_the_repository():
    archive = base64.b64decode(_docs()[0]["helm"]["rawChart"])
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        embedded = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    expected = {f"gardener-extension-networking-calico/{rel}": data
                for rel, data in controller_registration.chart_files().items()}
    assert embedded == expected
    assert "gardener-extension-networking-calico/Chart.yaml" in embedded
    assert "gardener-extension-networking-calico/templates/deployment.yaml" in embedded


def test_embedded_chart_renders_like_gardenlet_would():
    deployment = _docs()[0]
    archive = base64.b64decode(deployment["helm"]["rawChart"])
    values = deployment["helm"]["values"]
    with helm.Chart.load_archive(archive) as chart:
        assert chart.name == "gardener-extension-networking-calico"
        files = chart.render(values, name="networking-calico", namespace="extension-networking-calico-x1")
    docs = parse_manifests(files)
    for obj in docs:
        validate(obj)
    dep = [d for d in docs if d["kind"] == "Deployment"][0]
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":" + values["image"]["tag"])
    direct = render(CONTROLLER_CHART, values, name="networking-calico", namespace="extension-networking-calico-x1")
    assert canonical(docs) == canonical(direct.docs)


def test_archive_is_reproducible():
    assert controller_registration.chart_archive() == controller_registration.chart_archive()
