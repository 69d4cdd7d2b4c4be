import pytest

from kestra_policy import types as t
from kestra_policy.rules.data import validate_data_protected
from kestra_policy.rules.labels import validate_labels
from kestra_policy.stack import judging

from tests.policy.rule_harness import UNKNOWN_BOOL, UNKNOWN_OBJECT, UNKNOWN_STRING, check

UNPROTECTED = [(t.BUCKET, {"forceDestroy": True}, "forceDestroy"),
               (t.DATASET, {"deleteContentsOnDestroy": True}, "deleteContentsOnDestroy"),
               (t.DISK, {"deletionPolicy": "DELETE"}, "data disk"),
               (t.DISK, {}, "data disk")]


@pytest.mark.parametrize("type_, props, expected", UNPROTECTED)
def test_unprotected_data_on_a_kept_stack_is_reported(type_, props, expected):
    with judging("prod"):
        messages = check(validate_data_protected, type_, props)
    assert len(messages) == 1 and expected in messages[0]


@pytest.mark.parametrize("type_, props, expected", UNPROTECTED)
def test_disposable_stacks_may_drop_their_data(type_, props, expected):
    with judging("dev"):
        assert check(validate_data_protected, type_, props) == []
    with judging("feature-x"):
        assert check(validate_data_protected, type_, props, {"disposableStacks": ["dev", "feature-*"]}) == []


def test_protected_data_passes():
    with judging("prod"):
        assert check(validate_data_protected, t.BUCKET, {"forceDestroy": False}) == []
        assert check(validate_data_protected, t.DATASET, {}) == []
        assert check(validate_data_protected, t.DISK, {"deletionPolicy": "PREVENT"}) == []
        assert check(validate_data_protected, t.DISK, {}, protect=True) == []


def test_stack_comes_from_the_engines_environment(monkeypatch):
    monkeypatch.setenv("PULUMI_STACK", "dev")
    assert check(validate_data_protected, t.BUCKET, {"forceDestroy": True}) == []
    monkeypatch.setenv("PULUMI_STACK", "prod")
    assert check(validate_data_protected, t.BUCKET, {"forceDestroy": True})


def test_unknown_protection_settings_are_not_judged():
    with judging("prod"):
        assert check(validate_data_protected, t.BUCKET, {"forceDestroy": UNKNOWN_BOOL}) == []
        assert check(validate_data_protected, t.DISK, {"deletionPolicy": UNKNOWN_STRING}) == []


LABELS = {"env": "prod", "app": "kestra-stack"}


@pytest.mark.parametrize("type_", [t.BUCKET, t.DATASET, t.INSTANCE, t.DISK, t.SECRET])
def test_gcp_resources_with_env_and_app_labels_pass(type_):
    assert check(validate_labels, type_, {"labels": LABELS}) == []


@pytest.mark.parametrize("labels, missing", [({"app": "kestra-stack"}, "env"), ({}, "env, app"),
                                             ({"env": "", "app": "x"}, "env"), (None, "env, app")])
def test_missing_or_empty_labels_are_reported(labels, missing):
    props = {} if labels is None else {"labels": labels}
    assert check(validate_labels, t.BUCKET, props) == [f"missing label(s) {missing}."]


def test_docker_labels_are_checked_only_when_configured():
    container = {"labels": [{"label": "app", "value": "kestra-stack"}]}
    assert check(validate_labels, t.CONTAINER, container) == []
    assert check(validate_labels, t.CONTAINER, container, {"includeDocker": True}) == ["missing label(s) env."]
    container["labels"].append({"label": "env", "value": "dev"})
    assert check(validate_labels, t.CONTAINER, container, {"includeDocker": True}) == []


def test_required_labels_are_configurable_and_unknowns_not_judged():
    assert check(validate_labels, t.BUCKET, {"labels": LABELS}, {"labels": ["env", "app", "team"]}) == ["missing label(s) team."]
    assert check(validate_labels, t.BUCKET, {"labels": UNKNOWN_OBJECT}) == []
    assert check(validate_labels, t.BUCKET, {"labels": {"env": UNKNOWN_STRING, "app": "x"}}) == []
