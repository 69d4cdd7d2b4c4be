import pytest

from kestra_policy import types as t
from kestra_policy.rules.vm import (
    validate_dedicated_service_account,
    validate_firewall,
    validate_public_ip_restricted,
    validate_shielded,
)

from tests.policy.rule_harness import UNKNOWN_ARRAY, UNKNOWN_BOOL, UNKNOWN_OBJECT, UNKNOWN_STRING, check, check_stack

SA = "kestra-prod@p.iam.gserviceaccount.com"
IAP = {"direction": "INGRESS", "sourceRanges": ["35.235.240.0/20"], "allows": [{"protocol": "tcp", "ports": ["22"]}]}


def test_firewall_from_iap_range_passes():
    assert check(validate_firewall, t.FIREWALL, IAP) == []


@pytest.mark.parametrize("ranges", [["0.0.0.0/0"], ["35.235.240.0/20", "::/0"], ["::/0"]])
def test_firewall_open_to_everyone_is_reported(ranges):
    messages = check(validate_firewall, t.FIREWALL, {**IAP, "sourceRanges": ranges})
    assert len(messages) == 1 and "whole internet" in messages[0]


def test_ingress_without_any_source_is_open_to_everyone():
    messages = check(validate_firewall, t.FIREWALL, {"allows": [{"protocol": "tcp"}]})
    assert len(messages) == 1 and "no source given" in messages[0]


def test_egress_disabled_and_tag_sourced_rules_pass():
    assert check(validate_firewall, t.FIREWALL, {**IAP, "direction": "EGRESS", "sourceRanges": ["0.0.0.0/0"]}) == []
    assert check(validate_firewall, t.FIREWALL, {**IAP, "disabled": True, "sourceRanges": ["0.0.0.0/0"]}) == []
    assert check(validate_firewall, t.FIREWALL, {"sourceTags": ["bastion"]}) == []


def test_forbidden_ranges_are_configurable():
    assert check(validate_firewall, t.FIREWALL, {"sourceRanges": ["10.0.0.0/8"]}, {"forbiddenSourceRanges": ["10.0.0.0/8"]})


def test_firewall_unknown_sources_are_not_judged():
    assert check(validate_firewall, t.FIREWALL, {"sourceRanges": UNKNOWN_ARRAY}) == []
    assert check(validate_firewall, t.FIREWALL, {"sourceRanges": [UNKNOWN_STRING]}) == []
    assert check(validate_firewall, t.FIREWALL, {"direction": UNKNOWN_STRING, "sourceRanges": ["35.235.240.0/20"]}) == []


def vm(external: bool, **extra):
    interface = {"subnetwork": "s", **({"accessConfigs": [{}]} if external else {})}
    return (t.INSTANCE, "vm", {"networkInterfaces": [interface], "serviceAccount": {"email": SA}, **extra})


def firewall(ranges, **extra):
    return (t.FIREWALL, "fw", {"direction": "INGRESS", "sourceRanges": ranges, **extra})


def test_vm_without_public_ip_passes_even_with_wide_rules():
    assert check_stack(validate_public_ip_restricted, [vm(False), firewall(["10.0.0.0/8"])]) == []


def test_vm_with_public_ip_and_narrow_sources_passes():
    assert check_stack(validate_public_ip_restricted, [vm(True), firewall(["203.0.113.0/24", "35.235.240.0/20"])]) == []


def test_vm_with_public_ip_and_wide_sources_is_reported():
    reported = check_stack(validate_public_ip_restricted, [vm(True), firewall(["10.0.0.0/8"])])
    assert len(reported) == 1 and "10.0.0.0/8" in reported[0][0] and reported[0][1].endswith("::vm")
    assert check_stack(validate_public_ip_restricted, [vm(True), firewall(["10.0.0.0/8"])], {"minPrefixLength": 8}) == []


def test_rules_targeting_other_instances_do_not_count():
    assert check_stack(validate_public_ip_restricted, [vm(True, tags=["kestra"]), firewall(["0.0.0.0/0"], targetTags=["other"])]) == []
    assert check_stack(validate_public_ip_restricted, [vm(True), firewall(["0.0.0.0/0"], targetServiceAccounts=["x@p.iam"])]) == []
    assert check_stack(validate_public_ip_restricted, [vm(True), firewall(["0.0.0.0/0"], targetServiceAccounts=[SA])])


def test_egress_disabled_and_non_cidr_rules_do_not_count_for_a_public_vm():
    assert check_stack(validate_public_ip_restricted, [vm(True), firewall(["0.0.0.0/0"], direction="EGRESS")]) == []
    assert check_stack(validate_public_ip_restricted, [vm(True), firewall(["0.0.0.0/0"], disabled=True)]) == []
    assert check_stack(validate_public_ip_restricted, [vm(True), firewall(["not-a-cidr"])]) == []
    assert check(validate_firewall, t.FIREWALL, {"sourceRanges": ["not-a-cidr"]}) == []


def test_vm_public_ip_unknowns_are_not_judged():
    unknown_interfaces = (t.INSTANCE, "vm", {"networkInterfaces": UNKNOWN_ARRAY})
    unknown_access = (t.INSTANCE, "vm", {"networkInterfaces": [{"accessConfigs": UNKNOWN_ARRAY}]})
    for instance in (unknown_interfaces, unknown_access, (t.INSTANCE, "vm", {})):
        assert check_stack(validate_public_ip_restricted, [instance, firewall(["0.0.0.0/0"])]) == []
    assert check_stack(validate_public_ip_restricted, [vm(True), firewall(UNKNOWN_ARRAY)]) == []


SHIELDED = {"enableSecureBoot": True, "enableVtpm": True, "enableIntegrityMonitoring": True}


def test_shielded_vm_passes():
    assert check(validate_shielded, t.INSTANCE, {"shieldedInstanceConfig": SHIELDED}) == []


def test_vm_without_secure_boot_or_with_features_off_is_reported():
    assert len(check(validate_shielded, t.INSTANCE, {})) == 1  # GCE leaves secure boot off by default
    messages = check(validate_shielded, t.INSTANCE, {"shieldedInstanceConfig": {**SHIELDED, "enableVtpm": False,
                                                                                "enableIntegrityMonitoring": False}})
    assert len(messages) == 2


def test_shielded_unknowns_are_not_judged():
    assert check(validate_shielded, t.INSTANCE, {"shieldedInstanceConfig": UNKNOWN_OBJECT}) == []
    assert check(validate_shielded, t.INSTANCE, {"shieldedInstanceConfig": {**SHIELDED, "enableSecureBoot": UNKNOWN_BOOL}}) == []


def test_dedicated_service_account_passes():
    assert check(validate_dedicated_service_account, t.INSTANCE, {"serviceAccount": {"email": SA, "scopes": ["cloud-platform"]}}) == []


@pytest.mark.parametrize("props", [{}, {"serviceAccount": {"scopes": ["cloud-platform"]}},
                                   {"serviceAccount": {"email": "123456789-compute@developer.gserviceaccount.com"}},
                                   {"serviceAccount": {"email": "default"}}])
def test_default_compute_service_account_is_reported(props):
    assert len(check(validate_dedicated_service_account, t.INSTANCE, props)) == 1


def test_service_account_created_in_the_same_run_is_not_judged():
    assert check(validate_dedicated_service_account, t.INSTANCE, {"serviceAccount": {"email": UNKNOWN_STRING}}) == []
    assert check(validate_dedicated_service_account, t.INSTANCE, {"serviceAccount": UNKNOWN_OBJECT}) == []
