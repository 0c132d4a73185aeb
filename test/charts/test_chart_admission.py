"""Admission charts (runtime + application): deployment.md §2, every authentication mode in both
values layouts — (b) what current Gardener injects (`gardener.virtualCluster.*`, `kubeconfig`,
`projectedKubeconfig.*`) and (a) the older documented layout (`global.virtualGarden.*`,
`global.kubeconfig`, `global.serviceAccountTokenVolumeProjection.*`)."""
import pytest
import yaml

from chart_helpers import (APPLICATION_CHART, RUNTIME_CHART, canonical, container, env_map, lint,
                      mounts, render, render_error, secret_data, validate_all, volumes)

NAME = "gardener-extension-admission-calico"
NS = "garden"
RELEASE = "admission-calico"
LABELS = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/instance": RELEASE}
KUBECONFIG_DIR = f"/etc/{NAME}/kubeconfig"
PROJECTED_TOKEN_DIR = "/var/run/secrets/projected/serviceaccount"

STATIC_KUBECONFIG = """apiVersion: v1
kind: Config
current-context: garden
clusters:
- name: garden
  cluster:
    server: https://api.garden.example.com
    certificate-authority-data: LS0tLS1CRUdJTi1DRVJUSUZJQ0FURS0tLS0t
contexts:
- name: garden
  context:
    cluster: garden
    user: admission-calico
users:
- name: admission-calico
  user:
    token: not-a-real-token
"""

TOKEN_FILE_KUBECONFIG = STATIC_KUBECONFIG.replace(
    "token: not-a-real-token", f"tokenFile: {PROJECTED_TOKEN_DIR}/token")

CERT_KUBECONFIG = STATIC_KUBECONFIG.replace(
    "token: not-a-real-token",
    "client-certificate-data: LS0tLS1CRUdJTi1DRVJU\n    client-key-data: LS0tLS1CRUdJTi1LRVk=")

PROJECTED = {"baseMountPath": "/var/run/secrets/gardener.cloud",
             "genericKubeconfigSecretName": "generic-token-kubeconfig",
             "tokenSecretName": "access-calico-admission"}

OIDC_USER = "oidc-runtime:system:serviceaccount:garden:gardener-extension-admission-calico"

# (runtime values, application values) per authentication mode.
MODES = {
    # layout (b), current Gardener
    "b-virtual-default": ({}, {}),
    "b-in-cluster": ({"gardener": {"virtualCluster": {"enabled": False}}},
                     {"gardener": {"virtualCluster": {"enabled": False}}}),
    "b-static-kubeconfig": ({"kubeconfig": STATIC_KUBECONFIG}, {}),
    "b-projected-kubeconfig": ({"projectedKubeconfig": PROJECTED}, {}),
    "b-existing-service-account": (
        {"gardener": {"virtualCluster": {"namespace": "garden", "serviceAccount": {
            "name": "extension-admission-calico", "namespace": "kube-system"}}}},
        {"gardener": {"virtualCluster": {"serviceAccount": {
            "name": "extension-admission-calico", "namespace": "kube-system"}}}}),
    "b-runtime-extras": ({"gardener": {"runtimeCluster": {"priorityClassName": "gardener-garden-system-400"}},
                          "service": {"topologyAwareRouting": {"enabled": True}},
                          "resources": {"requests": {"cpu": "20m", "memory": "50Mi"}},
                          "replicaCount": 2, "metricsPort": None,
                          "image": {"ref": "registry.example.com/admission-calico:v1"}}, {}),
    # layout (a), older documentation
    "a-in-cluster": ({"global": {"virtualGarden": {"enabled": False}}},
                     {"global": {"virtualGarden": {"enabled": False}}}),
    "a-projected-token": ({"global": {"virtualGarden": {"enabled": False},
                                      "kubeconfig": TOKEN_FILE_KUBECONFIG,
                                      "serviceAccountTokenVolumeProjection": {"enabled": True}}},
                          {"global": {"virtualGarden": {"enabled": False}}}),
    "a-projected-token-audience": ({"global": {"virtualGarden": {"enabled": False},
                                               "kubeconfig": TOKEN_FILE_KUBECONFIG,
                                               "serviceAccountTokenVolumeProjection": {
                                                   "enabled": True, "audience": "garden-audience",
                                                   "expirationSeconds": 3600}}},
                                   {"global": {"virtualGarden": {"enabled": False}}}),
    "a-virtual-garden-service-account": ({"global": {"virtualGarden": {"enabled": True},
                                                     "kubeconfig": STATIC_KUBECONFIG}},
                                         {"global": {"virtualGarden": {"enabled": True}}}),
    "a-virtual-garden-user-cert": ({"global": {"virtualGarden": {"enabled": True},
                                               "kubeconfig": CERT_KUBECONFIG}},
                                   {"global": {"virtualGarden": {"enabled": True, "user": {
                                       "name": "gardener-extension-admission-calico"}}}}),
    "a-virtual-garden-oidc": ({"global": {"virtualGarden": {"enabled": True},
                                          "kubeconfig": TOKEN_FILE_KUBECONFIG,
                                          "serviceAccountTokenVolumeProjection": {
                                              "enabled": True, "audience": "virtual-garden-client-id"}}},
                              {"global": {"virtualGarden": {"enabled": True, "user": {"name": OIDC_USER}}}}),
}


def runtime(values=None, **kw):
    return render(RUNTIME_CHART, values, name=RELEASE, namespace=kw.pop("namespace", NS), **kw)


def application(values=None, **kw):
    return render(APPLICATION_CHART, values, name=RELEASE, namespace=kw.pop("namespace", NS), **kw)


@pytest.mark.parametrize("mode", sorted(MODES))
def test_every_mode_renders_valid_objects_and_lints_clean(mode):
    rt, app = MODES[mode]
    validate_all(runtime(rt))
    validate_all(application(app))
    lint(RUNTIME_CHART, rt)
    lint(APPLICATION_CHART, app)


def test_chart_metadata():
    for chart, name in ((RUNTIME_CHART, "admission-calico-runtime"),
                        (APPLICATION_CHART, "admission-calico-application")):
        meta = yaml.safe_load((chart / "Chart.yaml").read_text())
        assert meta["name"] == name
        assert meta["version"] == "0.1.0"
    # two independent charts, no umbrella chart
    assert not (RUNTIME_CHART.parent.parent / "Chart.yaml").exists()


# ---- runtime chart ----------------------------------------------------------------------------

def test_runtime_default_objects():
    r = runtime()
    assert r.kinds() == sorted([("Deployment", NAME), ("PodDisruptionBudget", NAME), ("Role", NAME),
                                ("RoleBinding", NAME), ("Service", NAME), ("ServiceAccount", NAME),
                                ("VerticalPodAutoscaler", f"{NAME}-vpa")])
    for obj in r.docs:
        assert obj["metadata"]["namespace"] == NS


def test_runtime_default_deployment_is_virtual_cluster_mode():
    dep = runtime().get("Deployment", NAME)
    assert dep["metadata"]["labels"] == {**LABELS, "high-availability-config.resources.gardener.cloud/type": "server"}
    assert dep["spec"]["revisionHistoryLimit"] == 2
    assert dep["spec"]["replicas"] == 1
    assert "strategy" not in dep["spec"]
    tmpl = dep["spec"]["template"]
    assert not tmpl["metadata"].get("annotations")
    assert tmpl["metadata"]["labels"] == {
        "networking.gardener.cloud/to-dns": "allowed",
        "networking.resources.gardener.cloud/to-virtual-garden-kube-apiserver-tcp-443": "allowed",
        "networking.gardener.cloud/to-runtime-apiserver": "allowed", **LABELS}
    pod = tmpl["spec"]
    assert pod["serviceAccountName"] == NAME
    assert "automountServiceAccountToken" not in pod
    assert "priorityClassName" not in pod
    c = container(dep)
    assert c["name"] == NAME
    assert c["image"] == "europe-docker.pkg.dev/gardener-project/public/gardener/extensions/admission-calico:latest"
    assert c["args"] == [
        "--webhook-config-server-port=10250",
        "--webhook-config-mode=url",
        f"--webhook-config-url={NAME}.{NS}",
        f"--webhook-config-namespace={NS}",
        "--metrics-bind-address=:8080",
        "--health-bind-address=:8081",
        f"--leader-election-id={NAME}",
    ]
    assert env_map(c) == {"LEADER_ELECTION_NAMESPACE": {"fieldRef": {"fieldPath": "metadata.namespace"}},
                          "SOURCE_CLUSTER": "enabled"}
    assert c["ports"] == [{"name": "webhook-server", "containerPort": 10250, "protocol": "TCP"}]
    assert c["livenessProbe"] == {"httpGet": {"path": "/healthz", "port": 8081, "scheme": "HTTP"},
                                  "initialDelaySeconds": 10}
    assert c["readinessProbe"] == {"httpGet": {"path": "/readyz", "port": 8081, "scheme": "HTTP"},
                                   "initialDelaySeconds": 5}
    # read-only root filesystem: only the scratch dir for the self-generated serving certificate
    assert volumes(dep) == {"tmp": {"name": "tmp", "emptyDir": {}}}
    assert mounts(c) == {"tmp": {"name": "tmp", "mountPath": "/tmp"}}


@pytest.mark.parametrize("mode", sorted(MODES))
def test_runtime_container_is_locked_down(mode):
    dep = runtime(MODES[mode][0]).get("Deployment")
    pod = dep["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    sc = container(dep)["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["capabilities"] == {"drop": ["ALL"]}


def test_in_cluster_mode_uses_service_registration_and_automounted_token():
    for mode in ("b-in-cluster", "a-in-cluster"):
        dep = runtime(MODES[mode][0]).get("Deployment")
        c = container(dep)
        assert "--webhook-config-mode=service" in c["args"]
        assert not any(a.startswith("--webhook-config-url") for a in c["args"])
        assert not any(a.startswith("--kubeconfig") for a in c["args"])
        assert "SOURCE_CLUSTER" not in env_map(c)
        assert "automountServiceAccountToken" not in dep["spec"]["template"]["spec"]
        assert runtime(MODES[mode][0]).find("Secret") is None


def test_static_kubeconfig():
    r = runtime(MODES["b-static-kubeconfig"][0])
    secret = r.get("Secret", f"{NAME}-kubeconfig")
    assert secret["type"] == "Opaque"
    assert secret["metadata"]["labels"] == {"chart": "admission-calico-runtime-0.1.0",
                                            "release": RELEASE, "heritage": "Helm"}
    assert secret_data(secret, "kubeconfig") == STATIC_KUBECONFIG
    dep = r.get("Deployment")
    pod = dep["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    c = container(dep)
    assert f"--kubeconfig={KUBECONFIG_DIR}/kubeconfig" in c["args"]
    assert c["args"].index(f"--kubeconfig={KUBECONFIG_DIR}/kubeconfig") < c["args"].index("--health-bind-address=:8081")
    assert mounts(c)[f"{NAME}-kubeconfig"] == {"name": f"{NAME}-kubeconfig", "mountPath": KUBECONFIG_DIR,
                                               "readOnly": True}
    assert volumes(dep)[f"{NAME}-kubeconfig"] == {"name": f"{NAME}-kubeconfig", "secret": {
        "secretName": f"{NAME}-kubeconfig", "defaultMode": 420}}
    checksum = dep["spec"]["template"]["metadata"]["annotations"][f"checksum/{NAME}-kubeconfig"]
    assert len(checksum) == 64
    other = runtime({"kubeconfig": STATIC_KUBECONFIG.replace("not-a-real-token", "another")}).get("Deployment")
    assert other["spec"]["template"]["metadata"]["annotations"][f"checksum/{NAME}-kubeconfig"] != checksum


def test_projected_generic_token_kubeconfig():
    r = runtime(MODES["b-projected-kubeconfig"][0])
    assert r.find("Secret") is None
    dep = r.get("Deployment")
    c = container(dep)
    assert "--kubeconfig=/var/run/secrets/gardener.cloud/kubeconfig" in c["args"]
    assert mounts(c)["kubeconfig"] == {"name": "kubeconfig", "mountPath": "/var/run/secrets/gardener.cloud",
                                       "readOnly": True}
    assert volumes(dep)["kubeconfig"] == {"name": "kubeconfig", "projected": {"defaultMode": 420, "sources": [
        {"secret": {"items": [{"key": "kubeconfig", "path": "kubeconfig"}],
                    "name": "generic-token-kubeconfig", "optional": False}},
        {"secret": {"items": [{"key": "token", "path": "token"}],
                    "name": "access-calico-admission", "optional": False}}]}}
    assert "automountServiceAccountToken" not in dep["spec"]["template"]["spec"]


@pytest.mark.parametrize("missing", ["baseMountPath", "genericKubeconfigSecretName", "tokenSecretName"])
def test_projected_kubeconfig_fields_are_required(missing):
    values = {k: v for k, v in PROJECTED.items() if k != missing}
    assert f".Values.projectedKubeconfig.{missing} is required" in \
        render_error(RUNTIME_CHART, {"projectedKubeconfig": values})


@pytest.mark.parametrize("mode,audience,expiration", [("a-projected-token", None, 43200),
                                                      ("a-projected-token-audience", "garden-audience", 3600),
                                                      ("a-virtual-garden-oidc", "virtual-garden-client-id", 43200)])
def test_projected_service_account_token(mode, audience, expiration):
    r = runtime(MODES[mode][0])
    dep = r.get("Deployment")
    c = container(dep)
    assert mounts(c)["service-account-token"] == {"name": "service-account-token",
                                                  "mountPath": PROJECTED_TOKEN_DIR, "readOnly": True}
    token = {"path": "token", "expirationSeconds": expiration}
    if audience:
        token["audience"] = audience
    assert volumes(dep)["service-account-token"] == {"name": "service-account-token", "projected": {
        "defaultMode": 420, "sources": [{"serviceAccountToken": token}]}}
    # the kubeconfig the binary reads points at the kubelet-rotated token
    kubeconfig = yaml.safe_load(secret_data(r.get("Secret", f"{NAME}-kubeconfig"), "kubeconfig"))
    assert kubeconfig["users"][0]["user"] == {"tokenFile": f"{PROJECTED_TOKEN_DIR}/token"}
    assert f"--kubeconfig={KUBECONFIG_DIR}/kubeconfig" in c["args"]
    assert dep["spec"]["template"]["spec"]["automountServiceAccountToken"] is False


def test_projected_token_needs_a_kubeconfig_that_uses_it():
    err = render_error(RUNTIME_CHART, {"global": {"serviceAccountTokenVolumeProjection": {"enabled": True}}})
    assert "needs .Values.global.kubeconfig" in err and f"{PROJECTED_TOKEN_DIR}/token" in err
    err = render_error(RUNTIME_CHART, {"global": {"kubeconfig": STATIC_KUBECONFIG,
                                                  "serviceAccountTokenVolumeProjection": {"enabled": True}}})
    assert f"tokenFile: {PROJECTED_TOKEN_DIR}/token" in err


def test_conflicting_kubeconfig_settings_fail():
    assert "not both" in render_error(RUNTIME_CHART, {"kubeconfig": STATIC_KUBECONFIG,
                                                      "projectedKubeconfig": PROJECTED})
    assert "not two different kubeconfigs" in render_error(
        RUNTIME_CHART, {"kubeconfig": STATIC_KUBECONFIG, "global": {"kubeconfig": CERT_KUBECONFIG}})
    # the same kubeconfig in both places is fine
    runtime({"kubeconfig": STATIC_KUBECONFIG, "global": {"kubeconfig": STATIC_KUBECONFIG}})


def test_owner_namespace_priority_class_and_extras():
    dep = runtime(MODES["b-existing-service-account"][0]).get("Deployment")
    assert "--webhook-config-owner-namespace=garden" in container(dep)["args"]
    r = runtime(MODES["b-runtime-extras"][0])
    dep = r.get("Deployment")
    pod = dep["spec"]["template"]["spec"]
    assert pod["priorityClassName"] == "gardener-garden-system-400"
    c = container(dep)
    assert c["image"] == "registry.example.com/admission-calico:v1"
    assert c["resources"] == {"requests": {"cpu": "20m", "memory": "50Mi"}}
    assert not any(a.startswith("--metrics-bind-address") for a in c["args"])
    assert dep["spec"]["replicas"] == 2
    assert r.get("Service")["spec"]["trafficDistribution"] == "PreferSameZone"


def test_runtime_service_pdb_vpa_and_rbac():
    r = runtime({"webhookConfig": {"serverPort": 9443}})
    svc = r.get("Service", NAME)
    assert svc["metadata"]["annotations"] == {
        "networking.resources.gardener.cloud/from-all-webhook-targets-allowed-ports": '[{"protocol":"TCP","port":9443}]'}
    assert svc["spec"] == {"type": "ClusterIP", "selector": LABELS,
                           "ports": [{"port": 443, "protocol": "TCP", "targetPort": 9443}]}
    assert "--webhook-config-server-port=9443" in container(r.get("Deployment"))["args"]
    assert r.get("PodDisruptionBudget")["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": LABELS},
                                                   "unhealthyPodEvictionPolicy": "AlwaysAllow"}
    vpa = r.get("VerticalPodAutoscaler", f"{NAME}-vpa")
    assert vpa["spec"]["targetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": NAME}
    assert vpa["spec"]["resourcePolicy"]["containerPolicies"][0]["containerName"] == NAME
    assert runtime({"vpa": {"enabled": False}}).find("VerticalPodAutoscaler") is None
    role = r.get("Role", NAME)
    flat = sorted((g, res, tuple(rule.get("resourceNames", [])), tuple(sorted(rule["verbs"])))
                  for rule in role["rules"] for g in rule["apiGroups"] for res in rule["resources"])
    assert flat == sorted([
        ("", "events", (), ("create", "patch")),
        ("", "secrets", (), ("create",)),
        ("", "secrets", ("ca-admission-calico-webhook", "admission-calico-webhook-server"), ("get", "update")),
        ("coordination.k8s.io", "leases", (), ("create",)),
        ("coordination.k8s.io", "leases", (NAME,), ("get", "update")),
    ])
    rb = r.get("RoleBinding", NAME)
    assert rb["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": NAME}
    assert rb["subjects"] == [{"kind": "ServiceAccount", "name": NAME, "namespace": NS}]


# ---- the two layouts are equivalent -----------------------------------------------------------

EQUIVALENT = [
    # (layout a, layout b)
    ({"global": {"virtualGarden": {"enabled": True}, "kubeconfig": STATIC_KUBECONFIG}},
     {"kubeconfig": STATIC_KUBECONFIG}),
    ({"global": {"virtualGarden": {"enabled": False}}},
     {"gardener": {"virtualCluster": {"enabled": False}}}),
    ({"global": {"virtualGarden": {"enabled": True}}}, {}),
    ({"global": {"virtualGarden": {"enabled": False}, "kubeconfig": CERT_KUBECONFIG}},
     {"gardener": {"virtualCluster": {"enabled": False}}, "kubeconfig": CERT_KUBECONFIG}),
]


@pytest.mark.parametrize("layout_a,layout_b", EQUIVALENT)
def test_both_layouts_render_the_same_runtime_objects(layout_a, layout_b):
    a, b = runtime(layout_a), runtime(layout_b)
    assert canonical(a.get("Deployment")) == canonical(b.get("Deployment"))
    assert canonical(a.docs) == canonical(b.docs)


def test_older_layout_takes_precedence_when_set():
    # global.virtualGarden.enabled=false wins over the (default) gardener.virtualCluster.enabled=true
    c = container(runtime({"global": {"virtualGarden": {"enabled": False}},
                           "gardener": {"virtualCluster": {"enabled": True}}}).get("Deployment"))
    assert "--webhook-config-mode=service" in c["args"]


# ---- application chart ------------------------------------------------------------------------

def _binding_subjects(values):
    return application(values).get("ClusterRoleBinding", NAME)["subjects"]


def test_application_cluster_role():
    role = application().get("ClusterRole", NAME)
    assert role["metadata"]["labels"] == LABELS
    flat = sorted((g, res, tuple(rule.get("resourceNames", [])), tuple(sorted(rule["verbs"])))
                  for rule in role["rules"] for g in rule["apiGroups"] for res in rule["resources"])
    assert flat == sorted([
        ("", "namespaces", (), ("get",)),
        ("admissionregistration.k8s.io", "validatingwebhookconfigurations", (), ("create",)),
        ("admissionregistration.k8s.io", "validatingwebhookconfigurations", (NAME, f"{NAME}-runtime"),
         ("get", "update")),
    ])


def test_application_virtual_mode_creates_service_account():
    for mode in ("b-virtual-default", "a-virtual-garden-service-account"):
        r = application(MODES[mode][1])
        sa = r.get("ServiceAccount", NAME)
        assert sa["metadata"]["namespace"] == NS
        assert sa["metadata"]["labels"] == LABELS
        assert "automountServiceAccountToken" not in sa
        assert _binding_subjects(MODES[mode][1]) == [{"kind": "ServiceAccount", "name": NAME, "namespace": NS}]


def test_application_in_cluster_binds_runtime_service_account_without_creating_one():
    for mode in ("b-in-cluster", "a-in-cluster"):
        r = application(MODES[mode][1])
        assert r.find("ServiceAccount") is None
        assert _binding_subjects(MODES[mode][1]) == [{"kind": "ServiceAccount", "name": NAME, "namespace": NS}]


def test_application_existing_service_account():
    values = MODES["b-existing-service-account"][1]
    assert application(values).find("ServiceAccount") is None
    assert _binding_subjects(values) == [{"kind": "ServiceAccount", "name": "extension-admission-calico",
                                          "namespace": "kube-system"}]
    err = render_error(APPLICATION_CHART, {"gardener": {"virtualCluster": {"serviceAccount": {"name": "x"}}}})
    assert ".Values.gardener.virtualCluster.serviceAccount.namespace is required" in err


@pytest.mark.parametrize("mode,user", [("a-virtual-garden-user-cert", NAME), ("a-virtual-garden-oidc", OIDC_USER)])
def test_application_user_subject(mode, user):
    values = MODES[mode][1]
    assert application(values).find("ServiceAccount") is None
    assert _binding_subjects(values) == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]


def test_application_layouts_are_equivalent():
    assert canonical(application({"global": {"virtualGarden": {"enabled": True}}}).docs) == \
        canonical(application({}).docs)
    assert canonical(application({"global": {"virtualGarden": {"enabled": False}}}).docs) == \
        canonical(application({"gardener": {"virtualCluster": {"enabled": False}}}).docs)


def test_explicit_token_automount_overrides_the_default():
    values = {"kubeconfig": STATIC_KUBECONFIG, "automountServiceAccountToken": True}
    assert runtime(values).get("Deployment")["spec"]["template"]["spec"]["automountServiceAccountToken"] is True
    assert runtime({"automountServiceAccountToken": False}).get(
        "Deployment")["spec"]["template"]["spec"]["automountServiceAccountToken"] is False
    lint(RUNTIME_CHART, values)
