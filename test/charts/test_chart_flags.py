"""The flags the charts pass must be flags the binaries accept (names from reconcile.md §6.1/§7.1).

The binaries use swift-argument-parser: a flag is accepted if it is declared as `@Option`/`@Flag`
(property name in kebab-case, or `.customLong("...")`), or — for hand-written parsing — appears as
a string literal in the executable's or its runtime modules' sources. The test skips while the
binary's option parsing has not been written yet.
"""
import re

import pytest

from chart_helpers import CONTROLLER_CHART, ROOT, RUNTIME_CHART, container, render

SOURCES = ROOT / "Sources"
CONTROLLER_SOURCES = ["gardener-extension-networking-calico", "KubeRuntime", "GardenerExtensions", "NetworkingCalico"]
ADMISSION_SOURCES = ["gardener-extension-admission-calico", "AdmissionCalico", "KubeRuntime"]


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def accepted_flags(modules):
    """(flag names declared with @Option/@Flag → kind, concatenated sources)."""
    flags, literals = {}, ""
    for module in modules:
        for path in sorted((SOURCES / module).rglob("*.swift")):
            text = path.read_text()
            literals += text
            for m in re.finditer(r"@(Option|Flag)\s*(\((?:[^()]|\([^()]*\))*\))?\s*(?:public\s+)?var\s+`?(\w+)`?", text):
                args = m.group(2) or ""
                custom = re.search(r'customLong\(\s*"([^"]+)"', args)
                flags[custom.group(1) if custom else _kebab(m.group(3))] = m.group(1)
    return flags, literals


def _check(chart, modules, values=None):
    flags, literals = accepted_flags(modules)
    if "config-file" not in flags and "webhook-config-mode" not in flags and \
            '"config-file"' not in literals and '"webhook-config-mode"' not in literals:
        pytest.skip("the binary's flag parsing has not landed yet")
    args = container(render(chart, values).get("Deployment"))["args"]
    unknown = [a for a in args
               if a.split("=", 1)[0][2:] not in flags and f'"{a.split("=", 1)[0][2:]}"' not in literals]
    assert not unknown, f"the chart passes flags the binary does not declare: {unknown}"
    # `--x=false` only parses for an @Option of type Bool; an ArgumentParser @Flag rejects a value
    valued_flags = [a for a in args if "=" in a and flags.get(a.split("=", 1)[0][2:]) == "Flag"]
    assert not valued_flags, (f"the chart passes {valued_flags} with a value, but the binary declares them as "
                              "@Flag (no value allowed); declare them as @Option(...) var x: Bool")


def test_controller_accepts_the_chart_args():
    _check(CONTROLLER_CHART, CONTROLLER_SOURCES)


@pytest.mark.parametrize("values", [None, {"kubeconfig": "apiVersion: v1\nkind: Config\n"},
                                    {"gardener": {"virtualCluster": {"enabled": False, "namespace": "garden"}}}])
def test_admission_accepts_the_chart_args(values):
    _check(RUNTIME_CHART, ADMISSION_SOURCES, values)


def test_flag_scanner_understands_argument_parser_declarations(tmp_path, monkeypatch):
    module = tmp_path / "Exe"
    module.mkdir()
    (module / "Options.swift").write_text('''
struct Options: ParsableArguments {
    @Option(name: .long, help: "x") var maxConcurrentReconciles: Int = 5
    @Option(name: .customLong("config-file"), help: "y") var configPath: String = ""
    @Flag var ignoreOperationAnnotation = false
}''')
    monkeypatch.setattr(__import__(__name__), "SOURCES", tmp_path)
    flags, _ = accepted_flags(["Exe"])
    assert {"max-concurrent-reconciles", "config-file", "ignore-operation-annotation"} <= set(flags)
    assert flags["ignore-operation-annotation"] == "Flag" and flags["config-file"] == "Option"
