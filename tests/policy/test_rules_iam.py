import json

import pytest

from kestra_policy import types as t
from kestra_policy.rules.iam import (
    validate_no_public_members,
    validate_project_roles,
    validate_service_account_keys,
)

from tests.policy.rule_harness import UNKNOWN_ARRAY, UNKNOWN_STRING, check, check_stack


@pytest.mark.parametrize("type_, props", [
    (t.BUCKET_IAM_MEMBER, {"bucket": "b", "role": "roles/storage.objectViewer", "member": "allUsers"}),
    (t.BUCKET_IAM_BINDING, {"bucket": "b", "role": "roles/storage.objectViewer",
                            "members": ["serviceAccount:sa@p.iam.gserviceaccount.com", "allAuthenticatedUsers"]}),
    (t.DATASET, {"datasetId": "d", "accesses": [{"role": "READER", "specialGroup": "allAuthenticatedUsers"}]}),
    (t.DATASET_ACCESS, {"datasetId": "d", "role": "READER", "iamMember": "allUsers"}),
    (t.PROJECT_IAM_POLICY, {"policyData": json.dumps({"bindings": [{"role": "roles/viewer", "members": ["allUsers"]}]})}),
    (t.SECRET_IAM_MEMBER, {"secretId": "s", "role": "roles/secretmanager.secretAccessor", "member": "allUsers"}),
    ("gcp:cloudrunv2/serviceIamMember:ServiceIamMember", {"member": "allUsers", "role": "roles/run.invoker"}),
    (t.BUCKET_ACL, {"bucket": "b", "predefinedAcl": "publicRead"}),
])
def test_public_members_are_reported_wherever_granted(type_, props):
    messages = check(validate_no_public_members, type_, props)
    assert len(messages) == 1
    assert "allUsers" in messages[0] or "allAuthenticatedUsers" in messages[0] or "publicRead" in messages[0]


def test_service_account_member_passes():
    assert check(validate_no_public_members, t.BUCKET_IAM_MEMBER,
                 {"bucket": "b", "role": "roles/storage.objectAdmin", "member": "serviceAccount:sa@p.iam.gserviceaccount.com"}) == []


def test_public_member_rule_skips_non_grant_resources_and_unknown_members():
    assert check(validate_no_public_members, t.INSTANCE, {"metadata": {"note": "allUsers"}}) == []
    assert check(validate_no_public_members, t.BUCKET_IAM_MEMBER, {"member": UNKNOWN_STRING}) == []
    assert check(validate_no_public_members, t.BUCKET_IAM_BINDING, {"members": UNKNOWN_ARRAY}) == []
    assert check(validate_no_public_members, t.BUCKET_IAM_MEMBER, {}) == []


@pytest.mark.parametrize("role", ["roles/owner", "roles/editor", "roles/viewer", "roles/storage.admin",
                                  "roles/iam.serviceAccountAdmin", "roles/resourcemanager.projectIamAdmin"])
def test_basic_and_admin_roles_at_project_level_are_reported(role):
    messages = check(validate_project_roles, t.PROJECT_IAM_MEMBER, {"role": role, "member": "serviceAccount:x"})
    assert len(messages) == 1 and role in messages[0]


def test_narrow_project_roles_and_admin_roles_on_a_bucket_pass():
    assert check(validate_project_roles, t.PROJECT_IAM_MEMBER, {"role": "roles/bigquery.jobUser", "member": "m"}) == []
    assert check(validate_project_roles, t.PROJECT_IAM_BINDING, {"role": "roles/logging.logWriter", "members": ["m"]}) == []
    assert check(validate_project_roles, t.BUCKET_IAM_MEMBER, {"role": "roles/storage.admin", "member": "m"}) == []


def test_project_policy_document_roles_are_checked():
    document = json.dumps({"bindings": [{"role": "roles/bigquery.jobUser"}, {"role": "roles/editor"}]})
    assert len(check(validate_project_roles, t.PROJECT_IAM_POLICY, {"policyData": document})) == 1


def test_project_roles_config_allows_exceptions_and_admin_roles():
    assert check(validate_project_roles, t.PROJECT_IAM_MEMBER, {"role": "roles/viewer"},
                 config={"allowedRoles": ["roles/viewer"]}) == []
    assert check(validate_project_roles, t.PROJECT_IAM_MEMBER, {"role": "roles/storage.admin"},
                 config={"forbidAdminRoles": False}) == []


def test_project_roles_unknown_missing_or_unparsable_are_not_judged():
    assert check(validate_project_roles, t.PROJECT_IAM_MEMBER, {"role": UNKNOWN_STRING}) == []
    assert check(validate_project_roles, t.PROJECT_IAM_MEMBER, {}) == []
    assert check(validate_project_roles, t.PROJECT_IAM_POLICY, {"policyData": UNKNOWN_STRING}) == []
    assert check(validate_project_roles, t.PROJECT_IAM_POLICY, {"policyData": "not json"}) == []


KEY = (t.SERVICE_ACCOUNT_KEY, "datalake-sa-key", {"serviceAccountId": "projects/p/serviceAccounts/sa"})
CONTAINER = (t.CONTAINER, "kestra", {"image": "kestra/kestra:v1.1.6"})
VM = (t.INSTANCE, "vm", {"name": "kestra"})


def test_one_key_for_the_docker_target_passes():
    assert check_stack(validate_service_account_keys, [KEY, CONTAINER]) == []


def test_a_key_on_the_vm_target_is_reported():
    reported = check_stack(validate_service_account_keys, [KEY, VM])
    assert len(reported) == 1 and "VM's service account" in reported[0][0] and reported[0][1].endswith("datalake-sa-key")


def test_a_key_no_target_uses_and_too_many_keys_are_reported():
    assert "no target" in check_stack(validate_service_account_keys, [KEY])[0][0]
    second = (t.SERVICE_ACCOUNT_KEY, "second", {})
    assert any("2 service-account keys" in m for m, _ in check_stack(validate_service_account_keys, [KEY, second, CONTAINER]))
    assert check_stack(validate_service_account_keys, [KEY, second, CONTAINER], config={"maxKeys": 2}) == []


def test_keys_with_unknown_properties_do_not_crash():
    assert check_stack(validate_service_account_keys, [(t.SERVICE_ACCOUNT_KEY, "k", {"serviceAccountId": UNKNOWN_STRING}),
                                                       CONTAINER]) == []
