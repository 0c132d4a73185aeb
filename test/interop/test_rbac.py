"""RBAC, ServiceAccount tokens and the self-subject reviews of the embedded API server, through
kubectl 1.37 (whose typed commands send protobuf bodies) and the official Python client."""
import json
import os
import subprocess

import pytest

from conftest import KUBECTL


def sa_kubectl(apiserver, token, *args, check=True):
    """kubectl authenticated with a ServiceAccount token instead of the admin's."""
    r = subprocess.run([KUBECTL, "--token", token, *args], capture_output=True, text=True, env=apiserver.env(), timeout=60)
    if check and r.returncode != 0:
        raise AssertionError("kubectl %s failed: %s" % (" ".join(args), r.stderr))
    return r


def sa_with_token(apiserver, namespace, name="robot"):
    apiserver.kubectl("create", "serviceaccount", name, "-n", namespace)
    return apiserver.kubectl("create", "token", name, "-n", namespace, "--duration", "20m").stdout.strip()


def test_create_rbac_objects_with_kubectl(apiserver, namespace):
    apiserver.kubectl("create", "role", "reader", "-n", namespace, "--verb=get", "--verb=list", "--resource=secrets")
    apiserver.kubectl("create", "rolebinding", "reader", "-n", namespace, "--role=reader", "--serviceaccount=%s:robot" % namespace)
    apiserver.kubectl("create", "clusterrole", "ns-lister", "--verb=list", "--resource=namespaces")
    apiserver.kubectl("create", "clusterrolebinding", "ns-lister-" + namespace, "--clusterrole=ns-lister", "--user=alice")
    role = json.loads(apiserver.kubectl("get", "role", "reader", "-n", namespace, "-o", "json").stdout)
    assert role["rules"] == [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}]
    rb = json.loads(apiserver.kubectl("get", "rolebinding", "reader", "-n", namespace, "-o", "json").stdout)
    assert rb["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"}
    assert rb["subjects"] == [{"kind": "ServiceAccount", "name": "robot", "namespace": namespace}]
    crb = json.loads(apiserver.kubectl("get", "clusterrolebinding", "ns-lister-" + namespace, "-o", "json").stdout)
    assert crb["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}]
    # roleRef cannot change.
    r = apiserver.kubectl("patch", "rolebinding", "reader", "-n", namespace, "--type=merge", "-p", '{"roleRef":{"name":"other"}}', check=False)
    assert r.returncode != 0
    assert "roleRef: Invalid value" in r.stderr and "cannot change roleRef" in r.stderr


def test_service_account_token_and_forbidden(apiserver, namespace):
    token = sa_with_token(apiserver, namespace)
    assert token
    r = sa_kubectl(apiserver, token, "get", "secret", "x", "-n", namespace, check=False)
    assert r.returncode != 0
    assert (
        'Error from server (Forbidden): secrets "x" is forbidden: User "system:serviceaccount:%s:robot" cannot get resource "secrets" '
        'in API group "" in the namespace "%s"' % (namespace, namespace)
    ) in r.stderr
    apiserver.kubectl("create", "role", "reader", "-n", namespace, "--verb=get", "--resource=secrets")
    apiserver.kubectl("create", "rolebinding", "reader", "-n", namespace, "--role=reader", "--serviceaccount=%s:robot" % namespace)
    r = sa_kubectl(apiserver, token, "get", "secret", "x", "-n", namespace, check=False)
    assert 'secrets "x" not found' in r.stderr
    # List is not granted; cluster-scope wording.
    r = sa_kubectl(apiserver, token, "get", "namespaces", check=False)
    assert ('User "system:serviceaccount:%s:robot" cannot list resource "namespaces" in API group "" at the cluster scope' % namespace) in r.stderr
    # Deleting the ServiceAccount ends its tokens.
    apiserver.kubectl("delete", "serviceaccount", "robot", "-n", namespace)
    r = sa_kubectl(apiserver, token, "get", "secret", "x", "-n", namespace, check=False)
    assert "Unauthorized" in r.stderr or "provide credentials" in r.stderr


def test_auth_can_i_list_and_whoami(apiserver, namespace):
    token = sa_with_token(apiserver, namespace)
    apiserver.kubectl("create", "role", "reader", "-n", namespace, "--verb=get", "--resource=secrets", "--resource-name=only")
    apiserver.kubectl("create", "rolebinding", "reader", "-n", namespace, "--role=reader", "--serviceaccount=%s:robot" % namespace)
    assert apiserver.kubectl("auth", "can-i", "delete", "secrets", "-n", namespace).stdout.strip() == "yes"
    assert sa_kubectl(apiserver, token, "auth", "can-i", "get", "secrets/only", "-n", namespace).stdout.strip() == "yes"
    r = sa_kubectl(apiserver, token, "auth", "can-i", "get", "secrets/other", "-n", namespace, check=False)
    assert r.stdout.strip() == "no" and r.returncode == 1
    r = sa_kubectl(apiserver, token, "auth", "can-i", "list", "secrets", "-n", namespace, check=False)
    assert r.stdout.strip() == "no"
    listing = sa_kubectl(apiserver, token, "auth", "can-i", "--list", "-n", namespace).stdout
    assert "secrets" in listing and "[only]" in listing and "selfsubjectaccessreviews.authorization.k8s.io" in listing
    assert "/version" in listing
    who = json.loads(sa_kubectl(apiserver, token, "auth", "whoami", "-o", "json").stdout)
    info = who["status"]["userInfo"]
    assert info["username"] == "system:serviceaccount:%s:robot" % namespace
    assert info["groups"] == ["system:serviceaccounts", "system:serviceaccounts:%s" % namespace, "system:authenticated"]
    admin = apiserver.kubectl("auth", "whoami").stdout
    assert "system:masters" in admin
    # Discovery and /version work for any authenticated user.
    sa_kubectl(apiserver, token, "version")
    sa_kubectl(apiserver, token, "api-resources")
    r = sa_kubectl(apiserver, token, "get", "--raw", "/foo", check=False)
    assert 'forbidden: User "system:serviceaccount:%s:robot" cannot get path "/foo"' % namespace in r.stderr


def test_short_token_duration_rejected(apiserver, namespace):
    apiserver.kubectl("create", "serviceaccount", "robot", "-n", namespace)
    r = apiserver.kubectl("create", "token", "robot", "-n", namespace, "--duration", "1m", check=False)
    assert r.returncode != 0 and "may not specify a duration less than 10 minutes" in r.stderr


def test_python_client_forbidden_and_token_request(apiserver, namespace):
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    core = client.CoreV1Api(apiserver.python_client())
    core.create_namespaced_service_account(namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="robot")))
    tr = core.create_namespaced_service_account_token(
        "robot", namespace, client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=900)))
    assert tr.status.token and tr.status.expiration_timestamp
    admin_cfg = apiserver.python_client().configuration
    cfg = client.Configuration()
    cfg.host = admin_cfg.host
    cfg.ssl_ca_cert = admin_cfg.ssl_ca_cert
    cfg.api_key = {"authorization": "Bearer " + tr.status.token}
    sa_core = client.CoreV1Api(client.ApiClient(cfg))
    with pytest.raises(ApiException) as e:
        sa_core.list_namespaced_secret(namespace)
    assert e.value.status == 403
    body = json.loads(e.value.body)
    assert body["reason"] == "Forbidden"
    assert body["details"] == {"kind": "secrets"}
    assert body["message"] == (
        'secrets is forbidden: User "system:serviceaccount:%s:robot" cannot list resource "secrets" in API group "" in the namespace "%s"'
        % (namespace, namespace))


def test_create_deployment_sends_protobuf(apiserver, namespace):
    apiserver.kubectl("create", "deployment", "web", "-n", namespace, "--image=nginx:1.27", "--port=8080", "--replicas=2")
    apiserver.kubectl("create", "deployment", "sleeper", "-n", namespace, "--image=busybox", "--", "sleep", "3600")
    web = json.loads(apiserver.kubectl("get", "deployment", "web", "-n", namespace, "-o", "json").stdout)
    assert web["spec"]["replicas"] == 2
    assert web["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    assert web["spec"]["template"]["metadata"]["labels"] == {"app": "web"}
    [c] = web["spec"]["template"]["spec"]["containers"]
    assert c["name"] == "nginx" and c["image"] == "nginx:1.27" and c["ports"] == [{"containerPort": 8080}]
    sleeper = json.loads(apiserver.kubectl("get", "deployment", "sleeper", "-n", namespace, "-o", "json").stdout)
    assert sleeper["spec"]["template"]["spec"]["containers"][0]["command"] == ["sleep", "3600"]


def test_impersonation_with_as(apiserver, namespace):
    apiserver.kubectl("create", "serviceaccount", "robot", "-n", namespace)
    apiserver.kubectl("create", "role", "reader", "-n", namespace, "--verb=get", "--resource=configmaps")
    apiserver.kubectl("create", "rolebinding", "reader", "-n", namespace, "--role=reader", "--serviceaccount=%s:robot" % namespace)
    sa = "system:serviceaccount:%s:robot" % namespace
    assert apiserver.kubectl("auth", "can-i", "get", "configmaps", "-n", namespace, "--as", sa).stdout.strip() == "yes"
    r = apiserver.kubectl("auth", "can-i", "list", "configmaps", "-n", namespace, "--as", sa, check=False)
    assert r.stdout.strip() == "no"
    r = apiserver.kubectl("get", "configmaps", "-n", namespace, "--as", sa, check=False)
    assert ('User "%s" cannot list resource "configmaps" in API group "" in the namespace "%s"' % (sa, namespace)) in r.stderr
    who = json.loads(apiserver.kubectl("auth", "whoami", "--as", "bob", "--as-group", "devs", "-o", "json").stdout)
    assert who["status"]["userInfo"]["username"] == "bob"
    assert who["status"]["userInfo"]["groups"] == ["devs", "system:authenticated"]
    # Only who may impersonate can: the ServiceAccount itself may not.
    token = apiserver.kubectl("create", "token", "robot", "-n", namespace).stdout.strip()
    r = subprocess.run([KUBECTL, "--token", token, "get", "configmaps", "-n", namespace, "--as", "bob"], capture_output=True, text=True,
                       env=apiserver.env(), timeout=60)
    assert ('users "bob" is forbidden: User "%s" cannot impersonate resource "users" in API group "" at the cluster scope' % sa) in r.stderr
