"""The validation helpers must be able to fail; otherwise every 'valid' below means nothing."""
import copy

import pytest

from chart_helpers import CONTROLLER_CHART, render, validate


def _deployment():
    return copy.deepcopy(render(CONTROLLER_CHART).get("Deployment"))


def test_unknown_field_in_builtin_kind_is_rejected():
    dep = _deployment()
    dep["spec"]["template"]["spec"]["containers"][0]["imagePulPolicy"] = "Always"
    with pytest.raises(pytest.fail.Exception):
        validate(dep)


def test_wrong_type_in_builtin_kind_is_rejected():
    dep = _deployment()
    dep["spec"]["replicas"] = "one"
    with pytest.raises(pytest.fail.Exception):
        validate(dep)


def test_custom_kind_is_checked_against_its_schema():
    vpa = copy.deepcopy(render(CONTROLLER_CHART).get("VerticalPodAutoscaler"))
    validate(vpa)
    vpa["spec"]["updatePolicy"]["updateMode"] = "Sometimes"
    with pytest.raises(pytest.fail.Exception):
        validate(vpa)


def test_metadata_of_custom_kind_is_checked():
    vpa = copy.deepcopy(render(CONTROLLER_CHART).get("VerticalPodAutoscaler"))
    vpa["metadata"]["labels"] = {"a": 1}
    with pytest.raises(pytest.fail.Exception):
        validate(vpa)


def test_unknown_kind_is_an_error():
    with pytest.raises(pytest.fail.Exception):
        validate({"apiVersion": "example.com/v1", "kind": "Nothing", "metadata": {"name": "x"}})
