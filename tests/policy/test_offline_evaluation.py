"""kestra_policy.offline: the pack over plain resources, with the engine's config precedence."""
from __future__ import annotations

import json

import pytest
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy

from kestra_policy import pack
from kestra_policy import types as t
from kestra_policy.offline import PolicyConfigError, Resource, evaluate, load_policy_config, resolve

LATEST = Resource(t.REMOTE_IMAGE, "kestra-image", {"name": "kestra/kestra:latest"})


def by_policy(violations):
    return {v.policy: v for v in violations}


def test_a_violation_names_policy_resource_level_and_fix():
    violation = by_policy(evaluate([LATEST], "prod"))["images-pinned"]
    assert (violation.resource_type, violation.resource_name, violation.level) == (t.REMOTE_IMAGE, "kestra-image", "mandatory")
    assert "latest" in violation.message and "kestraImage" in violation.fix


def test_config_levels_follow_the_engines_precedence():
    images = next(p for p in pack.POLICIES if p.name == "images-pinned")
    assert resolve(images, {}).level == EnforcementLevel.MANDATORY
    assert resolve(images, {"all": "advisory"}).level == EnforcementLevel.ADVISORY
    assert resolve(images, {"all": "advisory", "images-pinned": "mandatory"}).level == EnforcementLevel.MANDATORY
    assert resolve(images, {"images-pinned": {"enforcementLevel": "disabled", "movingTags": []}}).properties == {"movingTags": []}


def test_disabled_policies_do_not_run_and_advisory_ones_do_not_count_as_mandatory():
    assert "images-pinned" not in by_policy(evaluate([LATEST], "prod", {"images-pinned": "disabled"}))
    assert not by_policy(evaluate([LATEST], "prod", {"images-pinned": "advisory"}))["images-pinned"].mandatory


def test_stack_policies_attribute_violations_to_the_reported_resource():
    resources = [Resource(t.BUCKET, "bucket", {"location": "EU"}), Resource(t.DATASET, "dataset", {"location": "US"})]
    violation = by_policy(evaluate(resources, "prod"))["bucket-and-dataset-same-location"]
    assert violation.resource_name == "dataset"


def test_the_judged_stack_decides_data_protection():
    bucket = Resource(t.BUCKET, "bucket", {"forceDestroy": True})
    assert "data-protected" in by_policy(evaluate([bucket], "staging"))
    assert "data-protected" not in by_policy(evaluate([bucket], "dev"))


def test_protect_option_counts_as_disk_protection():
    assert "data-protected" in by_policy(evaluate([Resource(t.DISK, "disk", {})], "prod"))
    assert "data-protected" not in by_policy(evaluate([Resource(t.DISK, "disk", {}, protect=True)], "prod"))


def test_a_crashing_rule_fails_the_plan_instead_of_passing_it():
    def crash(args, report_violation):
        raise RuntimeError("boom")

    broken = ResourceValidationPolicy(name="broken", description="crashes", validate=crash,
                                      enforcement_level=EnforcementLevel.ADVISORY)
    [violation] = evaluate([LATEST], "prod", policies=[broken])
    assert violation.mandatory and "RuntimeError" in violation.message


def test_a_rule_reading_an_unknown_directly_is_reported_as_not_checkable():
    def strict(args, report_violation):
        args.props["name"]

    policy = ResourceValidationPolicy(name="strict", description="reads directly", validate=strict)
    [violation] = evaluate([Resource(t.REMOTE_IMAGE, "i", {"name": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"})], "prod",
                           policies=[policy])
    assert violation.level == "advisory" and "before apply" in violation.message


def write(tmp_path, document) -> object:
    path = tmp_path / "policy-config.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def test_a_valid_policy_config_file_loads(tmp_path):
    document = {"all": "mandatory", "images-pinned": {"movingTags": ["latest", "develop"]},
                "required-labels": "advisory"}
    assert load_policy_config(write(tmp_path, document)) == document


@pytest.mark.parametrize("document, expected", [
    ("{not json", "not valid JSON"),
    ([], "must be a JSON object"),
    ({"images-pined": "mandatory"}, "images-pined: no such policy"),
    ({"all": "strict"}, "all: must be one of"),
    ({"images-pinned": "strict"}, "images-pinned.enforcementLevel: 'strict' is not one of"),
    ({"images-pinned": {"movingTags": "latest"}}, "images-pinned.movingTags: 'latest' is not of type 'array'"),
    ({"firewall-no-open-ingress": {"forbiddenRanges": []}}, "firewall-no-open-ingress: Additional properties"),
])
def test_an_invalid_policy_config_file_is_refused_naming_file_and_key(tmp_path, document, expected):
    path = write(tmp_path, document)
    with pytest.raises(PolicyConfigError) as error:
        load_policy_config(path)
    assert str(error.value).startswith(f"{path}: ") and expected in str(error.value)


def test_a_missing_policy_config_file_is_refused(tmp_path):
    with pytest.raises(PolicyConfigError, match="cannot read"):
        load_policy_config(tmp_path / "absent.json")
