"""`make charts` (hack/charts.py package) and the gardener-operator example/extension.yaml."""
import os
import subprocess
import sys
import tarfile

import helm_python as helm
import yaml

from chart_helpers import ALL_CHARTS, ROOT, parse_manifests, validate

VERSION = (ROOT / "VERSION").read_text().strip()


def _package(out, version):
    env = {**os.environ, "EFFECTIVE_VERSION": version}
    result = subprocess.run([sys.executable, str(ROOT / "hack" / "charts.py"), "package", "--out", str(out)],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    return sorted(out.glob("*.tgz"))


def test_charts_are_packaged_with_the_version_as_chart_version_and_default_image_tag(tmp_path):
    files = _package(tmp_path, "v1.61.3")
    names = {yaml.safe_load((chart / "Chart.yaml").read_text())["name"] for chart in ALL_CHARTS}
    assert sorted(f.name for f in files) == sorted(f"{name}-v1.61.3.tgz" for name in names)
    for archive in files:
        with tarfile.open(archive) as tar:
            top = {member.name.split("/")[0] for member in tar.getmembers()}
            chart_name = archive.name[: -len("-v1.61.3.tgz")]
            assert top == {chart_name}, "entries live under <name>/ as `helm package` lays them out"
            meta = yaml.safe_load(tar.extractfile(f"{chart_name}/Chart.yaml").read())
            values = yaml.safe_load(tar.extractfile(f"{chart_name}/values.yaml").read())
        assert meta["version"] == "v1.61.3" and meta["appVersion"] == "v1.61.3"
        if "image" in values:
            assert values["image"]["tag"] == "v1.61.3"
        with helm.Chart.load_archive(archive.read_bytes()) as chart:
            assert chart.name == chart_name
            if "image" in values:
                docs = parse_manifests(chart.render({}, name="probe", namespace="garden"))
                images = [c["image"] for d in docs if d["kind"] == "Deployment"
                          for c in d["spec"]["template"]["spec"]["containers"]]
                assert images and all(i.endswith(":v1.61.3") for i in images)
    # The charts in the repository are unchanged by packaging.
    for chart in ALL_CHARTS:
        text = (chart / "values.yaml").read_text()
        assert "v1.61.3" not in text


def test_extension_example_is_current_and_deploys_all_three_charts():
    result = subprocess.run([sys.executable, str(ROOT / "hack" / "charts.py"), "extension", "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    ext = yaml.safe_load((ROOT / "example" / "extension.yaml").read_text())
    assert ext["apiVersion"] == "operator.gardener.cloud/v1alpha1" and ext["kind"] == "Extension"
    validate({k: v for k, v in ext.items() if k in ("apiVersion", "kind", "metadata")} | {"kind": "ConfigMap", "apiVersion": "v1"})
    assert ext["spec"]["resources"] == [{"kind": "Network", "type": "calico"}]
    deployment = ext["spec"]["deployment"]
    refs = [deployment["extension"]["helm"]["ociRepository"]["ref"],
            deployment["admission"]["runtimeCluster"]["helm"]["ociRepository"]["ref"],
            deployment["admission"]["virtualCluster"]["helm"]["ociRepository"]["ref"]]
    assert [r.rsplit("/", 1)[1] for r in refs] == [f"networking-calico:{VERSION}", f"admission-calico-runtime:{VERSION}",
                                                    f"admission-calico-application:{VERSION}"]
    assert deployment["extension"]["values"]["image"]["tag"] == VERSION
    assert deployment["admission"]["values"]["image"]["tag"] == VERSION
