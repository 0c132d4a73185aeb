"""CRD structural schemas (issue 16, item 1) through kubectl and the official Python client:
validation in kube-apiserver's words, pruning, fieldValidation, defaults, CEL warnings."""
import json

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

GROUP, VERSION, PLURAL = "schema.example.com", "v1", "gadgets"

GADGET_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.schema.example.com
spec:
  group: schema.example.com
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            x-kubernetes-validations:
            - rule: self.size < 100
            properties:
              size: {type: integer, minimum: 1}
              mode: {type: string, enum: [fast, slow], default: fast}
              name: {type: string, pattern: '^[a-z]+$'}
              tags: {type: array, maxItems: 2, items: {type: string}}
              extra: {type: object, x-kubernetes-preserve-unknown-fields: true}
          status:
            type: object
            properties:
              phase: {type: string}
"""

GADGET = """\
apiVersion: schema.example.com/v1
kind: Gadget
metadata:
  name: {name}
  namespace: {ns}
spec:
  size: 2
  bogus: true
  extra: {{free: form}}
"""


@pytest.fixture(scope="module")
def gadgets(apiserver):
    apiserver.crd_warnings = apiserver.apply_crd("gadgets.schema.example.com", "-f", "-", input=GADGET_CRD).stderr
    return apiserver


def gadget(name, spec):
    return {"apiVersion": "schema.example.com/v1", "kind": "Gadget", "metadata": {"name": name}, "spec": spec}


def test_crd_with_cel_rules_is_accepted_with_a_warning(gadgets):
    assert "Warning: this API server does not evaluate CEL rules" in gadgets.crd_warnings
    assert "spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations" in gadgets.crd_warnings


def test_kubectl_invalid_patch_is_rejected_in_kube_words(gadgets, namespace):
    k = gadgets.kubectl
    k("create", "--validate=false", "-f", "-", input=GADGET.format(name="g1", ns=namespace))
    r = k("patch", "gadget", "g1", "-n", namespace, "--type=merge", "-p", '{"spec":{"size":"string"}}', check=False)
    assert r.returncode != 0
    assert 'The Gadget "g1" is invalid: spec.size: Invalid value: "string": spec.size in body must be of type integer: "string"' in r.stderr
    r = k("patch", "gadget", "g1", "-n", namespace, "--type=merge", "-p", '{"spec":{"size":0,"mode":"x","name":"A","tags":["a","b","c"]}}',
          check=False)
    assert r.returncode != 0
    for cause in ['spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1',
                  'spec.mode: Unsupported value: "x": supported values: "fast", "slow"',
                  "spec.name: Invalid value: \"A\": spec.name in body should match '^[a-z]+$'",
                  'spec.tags: Too many: 3: must have at most 2 items']:
        assert cause in r.stderr
    # A json-patch removing a required field.
    r = k("patch", "gadget", "g1", "-n", namespace, "--type=json", "-p", '[{"op":"remove","path":"/spec/size"}]', check=False)
    assert r.returncode != 0 and "spec.size: Required value" in r.stderr


def test_kubectl_unknown_fields_are_pruned_and_defaults_applied(gadgets, namespace):
    k = gadgets.kubectl
    k("create", "--validate=false", "-f", "-", input=GADGET.format(name="g2", ns=namespace))
    obj = json.loads(k("get", "gadget", "g2", "-n", namespace, "-o", "json").stdout)
    assert obj["spec"] == {"size": 2, "mode": "fast", "extra": {"free": "form"}}


def test_python_client_field_validation(gadgets, namespace):
    co = client.CustomObjectsApi(gadgets.python_client())
    with pytest.raises(ApiException) as e:
        co.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, gadget("s1", {"size": 1, "bogus": 1}),
                                           field_validation="Strict")
    assert e.value.status == 400
    assert json.loads(e.value.body)["message"] == 'strict decoding error: unknown field "spec.bogus"'
    # Warn (also the default): created, pruned, with a Warning header.
    resp = co.create_namespaced_custom_object_with_http_info(GROUP, VERSION, namespace, PLURAL,
                                                             gadget("s2", {"size": 1, "bogus": 1}), field_validation="Warn")
    created, status, headers = resp
    assert status == 201 and "bogus" not in created["spec"]
    assert 'unknown field \\"spec.bogus\\"' in headers.get("Warning", "")
    # Ignore: silently pruned.
    created = co.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, gadget("s3", {"size": 1, "bogus": 1}),
                                                 field_validation="Ignore")
    assert created["spec"] == {"size": 1, "mode": "fast"}
    with pytest.raises(ApiException) as e:
        co.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, gadget("s4", {"size": 1}), field_validation="Loud")
    assert e.value.status == 422
    assert 'fieldValidation: Unsupported value: "Loud": supported values: "Ignore", "Strict", "Warn"' in json.loads(e.value.body)["message"]


def test_python_client_invalid_status_and_patch(gadgets, namespace):
    co = client.CustomObjectsApi(gadgets.python_client())
    co.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, gadget("p1", {"size": 1}))
    with pytest.raises(ApiException) as e:
        co.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "p1", {"spec": {"size": "big"}})
    assert e.value.status == 422
    body = json.loads(e.value.body)
    assert body["reason"] == "Invalid"
    assert body["details"]["causes"] == [{
        "reason": "FieldValueTypeInvalid", "field": "spec.size",
        "message": 'Invalid value: "string": spec.size in body must be of type integer: "string"'}]
    with pytest.raises(ApiException) as e:
        co.patch_namespaced_custom_object_status(GROUP, VERSION, namespace, PLURAL, "p1", {"status": {"phase": 5}})
    assert e.value.status == 422
    assert "status.phase in body must be of type string" in json.loads(e.value.body)["message"]


def test_kubectl_validate_strict_warn_false(gadgets, namespace):
    k = gadgets.kubectl
    r = k("apply", "--validate=strict", "-f", "-", input=GADGET.format(name="v-strict", ns=namespace), check=False)
    assert r.returncode != 0
    assert 'Error from server (BadRequest): error when creating "STDIN": strict decoding error: unknown field "spec.bogus"' in r.stderr
    assert k("get", "gadget", "v-strict", "-n", namespace, check=False).returncode != 0
    r = k("apply", "--validate=warn", "-f", "-", input=GADGET.format(name="v-warn", ns=namespace))
    assert 'Warning: unknown field "spec.bogus"' in r.stderr
    r = k("apply", "--validate=false", "-f", "-", input=GADGET.format(name="v-false", ns=namespace))
    assert "Warning" not in r.stderr
    for name in ("v-warn", "v-false"):
        obj = json.loads(k("get", "gadget", name, "-n", namespace, "-o", "json").stdout)
        assert "bogus" not in obj["spec"]
