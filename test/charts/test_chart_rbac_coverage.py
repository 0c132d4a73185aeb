"""RBAC coverage: the charts grant what the Swift code calls — and nothing else.

How it works (also in docs/operations.md, "RBAC"):
* `chart_rbac_scan.py` derives from Sources/ which API resources the controller (modules KubeRuntime,
  GardenerExtensions, NetworkingCalico and the executable's Controller*.swift) and the admission
  webhook (AdmissionCalico, its executable and KubeRuntime's leader election) use and — where a
  call or an informer names its resource — which verbs.
* Verbs the scan cannot see (calls through a `Resource` variable, a subresource passed as a
  parameter) are listed in the commented allow-lists `*_UNSEEN` below.
* Verbs the code uses only on fixed object names are listed in `*_NAMES`: the chart must grant them
  with `resourceNames`, and every name must occur in the code.
* `*_SCOPE` says which resources are granted by the namespaced Role (the rest: ClusterRole).
The checks fail on a verb the code uses that the chart does not grant, and on a verb/resource (or
resourceName) the chart grants that neither the scan nor an allow-list entry justifies; wildcards
and `deletecollection` are never accepted.
"""
from __future__ import annotations

import pytest

from chart_helpers import APPLICATION_CHART, CONTROLLER_CHART, RUNTIME_CHART, render
from chart_rbac_scan import Res, Usage, grant_text, granted_names, grants, scan

CONTROLLER_MODULES = ["KubeRuntime", "GardenerExtensions", "NetworkingCalico",
                      "gardener-extension-networking-calico/Controller*.swift"]
ADMISSION_MODULES = ["AdmissionCalico", "gardener-extension-admission-calico/*.swift",
                     "KubeRuntime/LeaderElection.swift", "KubeRuntime/EventRecorder.swift"]
DECLARING = ["KubeClient", "KubeRuntime", "GardenerExtensions", "NetworkingCalico", "AdmissionCalico"]
# Where the object names of the `*_NAMES` tables are defined (string literals).
CONTROLLER_NAME_SOURCES = CONTROLLER_MODULES + ["CalicoManifests"]
ADMISSION_NAME_SOURCES = ADMISSION_MODULES

LE = "networking-calico-leader-election"
HB = "gardener-extension-heartbeat"
MR = "extension-networking-calico-config"
DASHBOARDS = "calico-dashboards"
LEGACY_CM = "calico-monitoring-config"
SCRAPE = ("shoot-calico-felix", "shoot-calico-typha", "shoot-calico-bird")
WEBHOOK = "gardener-extension-admission-calico"

# (group, resource[/subresource]) → {verb: why the scan cannot see it}.
CONTROLLER_UNSEEN = {
    ("extensions.gardener.cloud", "networks/status"): {
        "patch": "NetworkReconciler.patchNetwork passes subresource \"status\" as a parameter"},
    ("", "configmaps"): {v: "CalicoActuator applies and deletes the seed monitoring objects through a Resource variable"
                         for v in ("create", "get", "patch", "delete")},
    ("monitoring.coreos.com", "scrapeconfigs"): {
        v: "CalicoActuator applies and deletes the seed monitoring objects through a Resource variable"
        for v in ("create", "get", "patch", "delete")},
}

# (group, resource) → {verb: the only object names the code uses it on}.
CONTROLLER_NAMES = {
    ("coordination.k8s.io", "leases"): {"get": (LE, HB), "update": (LE,), "patch": (HB,)},
    ("resources.gardener.cloud", "managedresources"): {"update": (MR,), "patch": (MR,), "delete": (MR,)},
    ("", "configmaps"): {"get": (DASHBOARDS, LEGACY_CM), "delete": (DASHBOARDS, LEGACY_CM), "patch": (DASHBOARDS,)},
    ("monitoring.coreos.com", "scrapeconfigs"): {"get": SCRAPE, "patch": SCRAPE, "delete": SCRAPE},
}

# (group, resource) granted by the Role in the release namespace (leader election, heartbeat).
CONTROLLER_SCOPE = {("coordination.k8s.io", "leases"): "Role"}

# Resources the controller reaches with another identity, not with the chart's ServiceAccount.
CONTROLLER_ELSEWHERE = {
    ("", "nodes"): "listed in the shoot with the shoot access kubeconfig (SeamlessOverlaySwitch)",
    ("apiextensions.k8s.io", "customresourcedefinitions"): "local mode only (embedded API server)",
}

ADMISSION_UNSEEN: dict[tuple[str, str], dict[str, str]] = {}

ADMISSION_NAMES = {
    ("", "secrets"): {v: ("ca-admission-calico-webhook", "admission-calico-webhook-server") for v in ("get", "update")},
    ("coordination.k8s.io", "leases"): {"get": (WEBHOOK,), "update": (WEBHOOK,)},
    ("admissionregistration.k8s.io", "validatingwebhookconfigurations"): {
        v: (WEBHOOK, f"{WEBHOOK}-runtime") for v in ("get", "update")},
}
# Names built by the code rather than written as a literal.
ADMISSION_DERIVED_NAMES = {
    f"{WEBHOOK}-runtime": "WebhookConfiguration.name(namespace:) appends -runtime in runtime-extension-* namespaces",
}

# Runtime chart (Role in the webhook's namespace) vs application chart (ClusterRole in the garden).
ADMISSION_SCOPE = {("", "secrets"): "Role", ("coordination.k8s.io", "leases"): "Role", ("", "events"): "Role"}
ADMISSION_ELSEWHERE: dict[tuple[str, str], str] = {}


def _required(usage: Usage, unseen) -> dict[tuple[str, str], set[str]]:
    """(group, resource[/subresource]) → verbs the code uses (scanned or allow-listed)."""
    out: dict[tuple[str, str], set[str]] = {}
    for (res, resource), verbs in usage.verbs.items():
        out.setdefault((res.group, resource), set()).update(verbs)
    for key, verbs in unseen.items():
        out.setdefault(key, set()).update(verbs)
    return out


def _check(usage: Usage, unseen, names, scope, elsewhere, flat, chart_name, literals=None,
           derived=None) -> list[str]:
    """Problems between the code's usage and the flattened grants (group, resource, verbs, names, scope)."""
    problems = [f"cannot parse a Resource declaration: {bad}" for bad in usage.unparseable]
    required = _required(usage, unseen)
    used_groups = {(r.group, r.plural) for r in usage.resources}

    # every resource the code touches has known verbs (or is reached with another identity)
    for res, where in sorted(usage.resources.items(), key=lambda kv: str(kv[0])):
        key = (res.group, res.plural)
        if key in elsewhere or any(g == res.group and r.split("/")[0] == res.plural for g, r in required):
            continue
        problems.append(
            f"the code uses {res} ({', '.join(sorted(set(where))[:3])}) but neither the scan nor "
            f"test_chart_rbac_coverage.py knows its verbs: add an allow-list entry for ({res.group!r}, {res.plural!r}) "
            f"and grant it in {chart_name}")
    for key in sorted(set(unseen) | set(names)):
        if (key[0], key[1].split("/")[0]) not in used_groups:
            problems.append(f"stale entry for {grant_text(*key)} in test_chart_rbac_coverage.py: the code does not use it")

    # missing: each required verb is granted (for its names, or for every object)
    for (group, resource), verbs in sorted(required.items()):
        plural = resource.split("/")[0]
        if (group, plural) in elsewhere:
            continue
        for verb in sorted(verbs):
            only = frozenset(names.get((group, resource), {}).get(verb, ()))
            allowed = granted_names(flat, group, resource, verb)
            if allowed is None or (only and only <= allowed):
                continue
            what = grant_text(group, resource, only)
            where = sorted({w for r, ws in usage.resources.items() if (r.group, r.plural) == (group, plural) for w in ws})
            problems.append(f"{chart_name} does not grant {verb!r} on {what}"
                            f" (used at {where[0] if where else 'see the allow-list'})")

    # excess: each granted verb is one the code uses, as narrowly as the code uses it
    for group, resource, verbs, rule_names, kind in flat:
        what = grant_text(group, resource, rule_names)
        if "*" in (group, resource) or "*" in verbs:
            problems.append(f"{chart_name} grants a wildcard: {sorted(verbs)} on {what}")
            continue
        key = (group, resource)
        if (group, resource.split("/")[0]) in elsewhere:
            problems.append(f"{chart_name} grants {sorted(verbs)} on {what}, which the code reaches with another "
                            f"identity ({elsewhere[(group, resource.split('/')[0])]})")
            continue
        expected_kind = scope.get((group, resource.split("/")[0]), "ClusterRole")
        if kind != expected_kind:
            problems.append(f"{chart_name} grants {what} in a {kind}; it belongs in the {expected_kind}")
        for verb in sorted(verbs):
            if verb not in required.get(key, set()):
                problems.append(f"{chart_name} grants {verb!r} on {what}, which the code does not use "
                                f"(remove it, or add a commented allow-list entry if the scan cannot see the call)")
                continue
            only = frozenset(names.get(key, {}).get(verb, ()))
            if only and not rule_names:
                problems.append(f"{chart_name} grants {verb!r} on every {resource} object; the code uses it only on "
                                f"{', '.join(sorted(only))}: restrict the rule with resourceNames")
            elif rule_names and not rule_names <= only:
                extra = sorted(rule_names - only)
                problems.append(f"{chart_name} grants {verb!r} on {what}; the code does not use it on {', '.join(extra)}")

    # every resourceName is a name the code uses
    if literals is not None:
        for key, by_verb in sorted(names.items()):
            for name in sorted({n for ns in by_verb.values() for n in ns}):
                if name not in literals and name not in (derived or {}):
                    problems.append(f"{grant_text(*key)}: the name {name!r} occurs nowhere in the code")
    return problems


def _controller_grants():
    r = render(CONTROLLER_CHART)
    return grants(r.get("ClusterRole")["rules"], "ClusterRole") + grants(r.get("Role")["rules"], "Role")


def _admission_grants():
    return grants(render(RUNTIME_CHART).get("Role")["rules"], "Role") + \
        grants(render(APPLICATION_CHART).get("ClusterRole")["rules"], "ClusterRole")


CONTROLLER_CHART_NAME = "charts/gardener-extension-networking-calico/templates/rbac.yaml"
ADMISSION_CHART_NAME = "charts/gardener-extension-admission-calico (runtime Role / application ClusterRole)"


def test_scanner_finds_declarations_and_calls():
    """The scanner must work on the real sources (otherwise the coverage tests are vacuous)."""
    usage = scan(["KubeRuntime"], DECLARING)
    assert usage.files, "no Swift files found below Sources/KubeRuntime"
    assert not usage.unparseable, usage.unparseable
    leases = Res("coordination.k8s.io", "v1", "leases")
    assert usage.verbs[(leases, "leases")] >= {"get", "create", "update"}
    usage = scan(CONTROLLER_MODULES, DECLARING)
    networks = Res("extensions.gardener.cloud", "v1alpha1", "networks")
    assert {"list", "watch"} <= usage.verbs[(networks, "networks")], "informers must count as list + watch"
    secrets = Res("", "v1", "secrets")
    assert "create" in usage.verbs[(secrets, "secrets")], "createIgnoringAnswer must count as create"
    assert MR in usage.literals


def test_controller_rbac_matches_the_code():
    usage = scan(CONTROLLER_MODULES, DECLARING)
    literals = scan(CONTROLLER_NAME_SOURCES, DECLARING).literals
    problems = _check(usage, CONTROLLER_UNSEEN, CONTROLLER_NAMES, CONTROLLER_SCOPE, CONTROLLER_ELSEWHERE,
                      _controller_grants(), CONTROLLER_CHART_NAME, literals)
    assert not problems, "\n".join(problems)


def test_admission_rbac_matches_the_code():
    usage = scan(ADMISSION_MODULES, DECLARING)
    literals = scan(ADMISSION_NAME_SOURCES, DECLARING).literals
    problems = _check(usage, ADMISSION_UNSEEN, ADMISSION_NAMES, ADMISSION_SCOPE, ADMISSION_ELSEWHERE,
                      _admission_grants(), ADMISSION_CHART_NAME, literals, ADMISSION_DERIVED_NAMES)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("flat", [_controller_grants, _admission_grants], ids=["controller", "admission"])
def test_no_secret_listing_no_namespace_writes_no_deletecollection(flat):
    """The probe's findings, stated directly (independent of the scan)."""
    for group, resource, verbs, _, _ in flat():
        assert "deletecollection" not in verbs and "*" not in verbs, (resource, verbs)
        if (group, resource) == ("", "secrets"):
            assert not verbs & {"list", "watch"}, verbs
        if (group, resource) == ("", "namespaces"):
            assert verbs <= {"get", "list", "watch"}, verbs


def _fake_usage() -> Usage:
    usage = Usage()
    networks = Res("extensions.gardener.cloud", "v1alpha1", "networks")
    usage.add(networks, "Sources/X.swift:1")
    usage.add(Res("example.com", "v1", "widgets"), "Sources/Y.swift:7")
    usage.verbs[(networks, "networks")] = {"get", "delete"}
    usage.literals = {"only-this"}
    return usage


def test_check_reports_a_missing_grant():
    """A verb the code uses but the chart does not grant names resource and verb."""
    flat = grants([{"apiGroups": ["extensions.gardener.cloud"], "resources": ["networks"], "verbs": ["get"]}],
                  "ClusterRole")
    problems = "\n".join(_check(_fake_usage(), {}, {}, {}, {}, flat, "the chart"))
    assert "the chart does not grant 'delete' on networks.extensions.gardener.cloud" in problems
    assert "('example.com', 'widgets')" in problems and "Sources/Y.swift:7" in problems


def test_check_reports_an_unused_or_too_broad_grant():
    """A granted verb the code never uses, a missing resourceNames restriction, an unused name, a
    wildcard and a rule in the wrong kind of role each fail."""
    rules = [
        {"apiGroups": ["extensions.gardener.cloud"], "resources": ["networks"], "verbs": ["get", "delete", "update"]},
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]},
        {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["only-this", "other"], "verbs": ["delete"]},
        {"apiGroups": ["*"], "resources": ["pods"], "verbs": ["get"]},
    ]
    usage = _fake_usage()
    usage.add(Res("", "v1", "configmaps"), "Sources/Z.swift:3")
    unseen = {("", "configmaps"): {"get": "through a variable", "delete": "through a variable"}}
    names = {("", "configmaps"): {"get": ("only-this",), "delete": ("only-this",)}}
    scope = {("extensions.gardener.cloud", "networks"): "Role"}
    problems = "\n".join(_check(usage, unseen, names, scope, {}, grants(rules, "ClusterRole"), "the chart",
                                usage.literals))
    assert "the chart grants 'update' on networks.extensions.gardener.cloud, which the code does not use" in problems
    assert "grants 'get' on every configmaps object; the code uses it only on only-this" in problems
    assert "the code does not use it on other" in problems
    assert "grants a wildcard" in problems
    assert "in a ClusterRole; it belongs in the Role" in problems


def test_check_reports_stale_entries_and_unknown_names():
    usage = _fake_usage()
    names = {("", "secrets"): {"get": ("nowhere",)}, ("extensions.gardener.cloud", "networks"): {"get": ("gone",)}}
    problems = "\n".join(_check(usage, {}, names, {}, {}, [], "the chart", usage.literals))
    assert "stale entry for secrets (core)" in problems
    assert "the name 'gone' occurs nowhere in the code" in problems
