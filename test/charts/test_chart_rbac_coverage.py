"""RBAC coverage: the charts grant what the Swift code calls — and nothing the code never touches.

How it works (also in docs/operations.md, "RBAC"):
* `chart_rbac_scan.py` derives from Sources/ which API resources the controller (modules KubeRuntime,
  GardenerExtensions, NetworkingCalico and the executable's Controller*.swift) and the admission
  webhook (AdmissionCalico and its executable) use, and — where a call names its resource — which
  verbs.
* Verbs that scanning cannot see (calls through variables, informers, generic apply helpers) are
  kept in the maintained tables below, one entry per resource.
A resource found in the code without a table entry fails the test with its file:line, so whoever
adds an API call also decides (and reviews) its verbs here and in the chart.
"""
from __future__ import annotations

import pytest

from chart_helpers import APPLICATION_CHART, CONTROLLER_CHART, RUNTIME_CHART, render
from chart_rbac_scan import Res, grant_text, granted, grants, scan

CONTROLLER_MODULES = ["KubeRuntime", "GardenerExtensions", "NetworkingCalico",
                      "gardener-extension-networking-calico/Controller*.swift"]
ADMISSION_MODULES = ["AdmissionCalico", "gardener-extension-admission-calico/*.swift"]
DECLARING = ["KubeClient", "KubeRuntime", "GardenerExtensions", "NetworkingCalico", "AdmissionCalico"]

LE = "networking-calico-leader-election"
HB = "gardener-extension-heartbeat"
SCRAPE = ("shoot-calico-felix", "shoot-calico-typha", "shoot-calico-bird")


def need(resource: str, verbs: str, names: tuple[str, ...] = ()):
    return (resource, frozenset(verbs.split()), frozenset(names))


# (group, plural) → what the controller needs, as (resource[/subresource], verbs, resourceNames).
CONTROLLER_NEEDS = {
    ("extensions.gardener.cloud", "networks"): [
        need("networks", "get list watch patch update"),       # informer, finalizer/annotation patches
        need("networks/status", "patch update")],              # lastOperation, providerStatus
    ("extensions.gardener.cloud", "clusters"): [need("clusters", "get list watch")],
    ("resources.gardener.cloud", "managedresources"): [
        need("managedresources", "create get list watch patch update delete")],
    ("", "secrets"): [need("secrets", "create get list patch update delete")],       # MR secrets
    ("", "configmaps"): [need("configmaps", "create get list patch update delete")],  # dashboards
    ("", "namespaces"): [need("namespaces", "list watch")],    # informer of the shoot-not-failed predicate
    ("", "events"): [need("events", "create patch update")],   # event recorder
    ("coordination.k8s.io", "leases"): [
        need("leases", "create list watch"),
        need("leases", "get patch update", (LE, HB))],         # leader election + heartbeat
    ("monitoring.coreos.com", "scrapeconfigs"): [
        need("scrapeconfigs", "create get list watch"),
        need("scrapeconfigs", "update patch delete", SCRAPE)],
}

# Resources the controller reaches with another identity, not with the chart's ServiceAccount.
CONTROLLER_ELSEWHERE = {
    ("", "nodes"): "listed in the shoot with the shoot access kubeconfig (SeamlessOverlaySwitch)",
    ("apps", "daemonsets"): "only decoded from the ManagedResource secret, never requested",
    ("apiextensions.k8s.io", "customresourcedefinitions"): "local mode only (embedded API server)",
}

ADMISSION_NEEDS = {
    ("admissionregistration.k8s.io", "validatingwebhookconfigurations"): [
        need("validatingwebhookconfigurations", "create get list watch"),
        need("validatingwebhookconfigurations", "patch update delete", ("gardener-extension-admission-calico",))],
    ("", "secrets"): [need("secrets", "create get list watch update patch delete")],  # serving certs
    ("coordination.k8s.io", "leases"): [
        need("leases", "create list watch"),
        need("leases", "get update", ("gardener-extension-admission-calico",))],
    ("", "events"): [need("events", "create patch update")],
    ("events.k8s.io", "events"): [need("events", "create patch update")],
    ("", "namespaces"): [need("namespaces", "get list watch")],
    ("core.gardener.cloud", "shoots"): [need("shoots", "get list watch")],
}
ADMISSION_ELSEWHERE: dict[tuple[str, str], str] = {}


def _check(usage, needs, elsewhere, flat, chart_name):
    problems = []
    for bad in usage.unparseable:
        problems.append(f"cannot parse a Resource declaration: {bad}")
    for res, where in sorted(usage.resources.items(), key=lambda kv: str(kv[0])):
        key = (res.group, res.plural)
        if key in elsewhere:
            continue
        if key not in needs:
            problems.append(
                f"the code uses {res} ({', '.join(sorted(set(where))[:3])}) but test_chart_rbac_coverage.py has no "
                f"entry for ({res.group!r}, {res.plural!r}): decide its verbs, add them to the table and "
                f"grant them in {chart_name}")
            continue
        for resource, verbs, names in needs[key]:
            for verb in sorted(verbs):
                if not granted(flat, res.group, resource, verb, names):
                    problems.append(f"{chart_name} does not grant {verb!r} on {grant_text(res.group, resource, names)}"
                                    f" (used at {sorted(set(where))[0]})")
    # verbs seen directly in calls must be granted too, whatever the table says
    for (res, resource), verbs in sorted(usage.verbs.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])):
        if (res.group, res.plural) in elsewhere:
            continue
        for verb in sorted(verbs):
            if not granted(flat, res.group, resource, verb, any_names=True):
                problems.append(f"the code calls {verb!r} on {grant_text(res.group, resource)} "
                                f"({sorted(set(usage.resources[res]))[0]}) but {chart_name} does not grant it")
            table = [v for r, v, _ in needs.get((res.group, res.plural), []) if r == resource]
            if table and not any(verb in v for v in table):
                problems.append(f"the code calls {verb!r} on {grant_text(res.group, resource)}; "
                                f"add it to the table in test_chart_rbac_coverage.py")
    return problems


def test_scanner_finds_declarations_and_calls():
    """The scanner must work on the real sources (otherwise the coverage tests are vacuous)."""
    usage = scan(["KubeRuntime"], DECLARING)
    assert usage.files, "no Swift files found below Sources/KubeRuntime"
    assert not usage.unparseable, usage.unparseable


def test_controller_cluster_role_covers_the_code():
    usage = scan(CONTROLLER_MODULES, DECLARING)
    flat = grants(render(CONTROLLER_CHART).get("ClusterRole")["rules"])
    problems = _check(usage, CONTROLLER_NEEDS, CONTROLLER_ELSEWHERE, flat,
                      "charts/gardener-extension-networking-calico/templates/rbac.yaml")
    assert not problems, "\n".join(problems)


def test_controller_cluster_role_grants_nothing_unused():
    usage = scan(CONTROLLER_MODULES, DECLARING)
    used = {(r.group, r.plural) for r in usage.resources}
    if ("extensions.gardener.cloud", "networks") not in used or \
            not any(p.parts[-2] == "NetworkingCalico" and "Resource" in p.read_text() for p in usage.files):
        pytest.skip("the controller code (NetworkingCalico) has not landed yet")
    flat = grants(render(CONTROLLER_CHART).get("ClusterRole")["rules"])
    unused = sorted({(g, r.split("/")[0]) for g, r, _, _ in flat} - used)
    assert not unused, f"the ClusterRole grants resources the controller never uses: {unused}"


def test_admission_roles_cover_the_code():
    usage = scan(ADMISSION_MODULES, DECLARING)
    flat = grants(render(RUNTIME_CHART).get("Role")["rules"]) + \
        grants(render(APPLICATION_CHART).get("ClusterRole")["rules"])
    problems = _check(usage, ADMISSION_NEEDS, ADMISSION_ELSEWHERE, flat,
                      "charts/gardener-extension-admission-calico (runtime Role / application ClusterRole)")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("table,chart,kind", [(CONTROLLER_NEEDS, CONTROLLER_CHART, "ClusterRole")])
def test_maintained_table_is_granted(table, chart, kind):
    """Independent of the scan: every table entry is granted (keeps table and chart in step)."""
    flat = grants(render(chart).get(kind)["rules"])
    missing = [f"{verb} {grant_text(group, resource, names)}"
               for (group, _), entries in table.items() for resource, verbs, names in entries
               for verb in sorted(verbs) if not granted(flat, group, resource, verb, names)]
    assert not missing, missing


def test_admission_table_is_granted():
    flat = grants(render(RUNTIME_CHART).get("Role")["rules"]) + \
        grants(render(APPLICATION_CHART).get("ClusterRole")["rules"])
    missing = [f"{verb} {grant_text(group, resource, names)}"
               for (group, _), entries in ADMISSION_NEEDS.items() for resource, verbs, names in entries
               for verb in sorted(verbs) if not granted(flat, group, resource, verb, names)]
    assert not missing, missing


def test_coverage_check_reports_a_missing_grant(tmp_path):
    """A resource used by code but not granted must produce a message naming resource and verb."""
    from chart_rbac_scan import Usage
    usage = Usage()
    usage.add(Res("extensions.gardener.cloud", "v1alpha1", "networks"), "Sources/X.swift:1")
    usage.add(Res("example.com", "v1", "widgets"), "Sources/Y.swift:7")
    usage.verbs[(Res("extensions.gardener.cloud", "v1alpha1", "networks"), "networks")] = {"delete"}
    flat = grants([{"apiGroups": ["extensions.gardener.cloud"], "resources": ["networks"], "verbs": ["get"]}])
    problems = "\n".join(_check(usage, CONTROLLER_NEEDS, {}, flat, "the chart"))
    assert "the chart does not grant 'list' on networks.extensions.gardener.cloud" in problems
    assert "no entry for ('example.com', 'widgets')" in problems and "Sources/Y.swift:7" in problems
    assert "the code calls 'delete' on networks.extensions.gardener.cloud" in problems
