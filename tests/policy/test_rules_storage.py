from kestra_policy import types as t
from kestra_policy.rules.storage import validate_bucket_access, validate_same_location

from tests.policy.rule_harness import UNKNOWN_BOOL, UNKNOWN_STRING, check, check_stack

GOOD_BUCKET = {"name": "p-zoomcamp", "location": "US", "uniformBucketLevelAccess": True, "publicAccessPrevention": "enforced"}


def test_bucket_with_uniform_access_and_enforced_prevention_passes():
    assert check(validate_bucket_access, t.BUCKET, GOOD_BUCKET) == []


def test_bucket_without_uniform_access_or_with_inherited_prevention_is_reported():
    messages = check(validate_bucket_access, t.BUCKET, {**GOOD_BUCKET, "uniformBucketLevelAccess": False,
                                                        "publicAccessPrevention": "inherited"})
    assert len(messages) == 2
    assert "uniformBucketLevelAccess" in messages[0] and "'inherited'" in messages[1]


def test_bucket_missing_both_settings_is_reported_as_unset():
    messages = check(validate_bucket_access, t.BUCKET, {"name": "b"})
    assert len(messages) == 2 and "unset" in messages[1]


def test_bucket_settings_unknown_in_preview_are_not_judged():
    assert check(validate_bucket_access, t.BUCKET, {"uniformBucketLevelAccess": UNKNOWN_BOOL,
                                                    "publicAccessPrevention": UNKNOWN_STRING}) == []


def test_bucket_rule_ignores_other_types():
    assert check(validate_bucket_access, t.DATASET, {}) == []


def test_bucket_and_dataset_in_same_location_pass_case_insensitively():
    assert check_stack(validate_same_location, [(t.BUCKET, "b", {"location": "us"}),
                                                (t.DATASET, "d", {"location": "US"})]) == []


def test_bucket_and_dataset_in_different_locations_are_reported_on_the_dataset():
    reported = check_stack(validate_same_location, [(t.BUCKET, "b", {"location": "EU"}),
                                                    (t.DATASET, "d", {"location": "US"})])
    assert len(reported) == 1
    message, urn = reported[0]
    assert "EU" in message and "US" in message and urn.endswith("::d")


def test_dataset_without_location_counts_as_bigquerys_default_us():
    assert check_stack(validate_same_location, [(t.BUCKET, "b", {"location": "EU"}), (t.DATASET, "d", {})])
    assert check_stack(validate_same_location, [(t.BUCKET, "b", {"location": "US"}), (t.DATASET, "d", {})]) == []


def test_unknown_or_missing_locations_are_not_judged():
    assert check_stack(validate_same_location, [(t.BUCKET, "b", {"location": UNKNOWN_STRING}),
                                                (t.DATASET, "d", {"location": "EU"})]) == []
    assert check_stack(validate_same_location, [(t.BUCKET, "b", {}), (t.DATASET, "d", {"location": "EU"})]) == []
