import pytest

from kestra_policy import types as t
from kestra_policy.rules.docker import validate_images_pinned, validate_ports_on_localhost

from tests.policy.rule_harness import UNKNOWN_ARRAY, UNKNOWN_OBJECT, UNKNOWN_STRING, check

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize("reference", ["kestra/kestra:v1.1.6", "postgres:18.6", "localhost:5000/team/kestra:1.1",
                                       f"kestra/kestra@{DIGEST}", f"kestra/kestra:v1.1@{DIGEST}", DIGEST])
def test_pinned_images_pass(reference):
    assert check(validate_images_pinned, t.REMOTE_IMAGE, {"name": reference}) == []
    assert check(validate_images_pinned, t.CONTAINER, {"image": reference}) == []


@pytest.mark.parametrize("reference, reason", [("kestra/kestra:latest", "moving tag 'latest'"),
                                               ("kestra/kestra", "no tag"), ("postgres", "no tag"),
                                               ("localhost:5000/kestra", "no tag"), ("postgres:", "empty tag")])
def test_unpinned_images_are_reported(reference, reason):
    for type_, key in ((t.REMOTE_IMAGE, "name"), (t.CONTAINER, "image")):
        messages = check(validate_images_pinned, type_, {key: reference})
        assert len(messages) == 1 and reason in messages[0]


def test_compose_images_in_vm_metadata_are_checked():
    compose = "services:\n  kestra:\n    image: kestra/kestra:latest\n  db:\n    image: postgres:18.6\n  x:\n    image: ${IMAGE}\n"
    messages = check(validate_images_pinned, t.INSTANCE, {"metadata": {"kestra-compose": compose}})
    assert len(messages) == 1 and "metadata.kestra-compose" in messages[0] and "kestra/kestra:latest" in messages[0]


def test_image_config_moving_tags_and_digest_requirement():
    assert check(validate_images_pinned, t.REMOTE_IMAGE, {"name": "kestra/kestra:develop"}) == []
    assert check(validate_images_pinned, t.REMOTE_IMAGE, {"name": "kestra/kestra:develop"}, {"movingTags": ["latest", "develop"]})
    assert check(validate_images_pinned, t.REMOTE_IMAGE, {"name": "postgres:18.6"}, {"requireDigest": True})
    assert check(validate_images_pinned, t.REMOTE_IMAGE, {"name": f"postgres@{DIGEST}"}, {"requireDigest": True}) == []


def test_unknown_or_missing_images_are_not_judged():
    assert check(validate_images_pinned, t.CONTAINER, {"image": UNKNOWN_STRING}) == []
    assert check(validate_images_pinned, t.CONTAINER, {}) == []
    assert check(validate_images_pinned, t.INSTANCE, {"metadata": UNKNOWN_OBJECT}) == []
    assert check(validate_images_pinned, t.INSTANCE, {"metadata": {"startup-script": UNKNOWN_STRING}}) == []


def test_ports_on_loopback_pass():
    ports = [{"internal": 8080, "external": 8080, "ip": "127.0.0.1"}, {"internal": 80.0, "external": 8085.0, "ip": "::1"}]
    assert check(validate_ports_on_localhost, t.CONTAINER, {"ports": ports}) == []


def test_ports_on_all_addresses_or_without_ip_are_reported():
    ports = [{"internal": 8080, "external": 8080, "ip": "0.0.0.0"}, {"internal": 5432.0, "external": 5433.0}]
    messages = check(validate_ports_on_localhost, t.CONTAINER, {"ports": ports})
    assert len(messages) == 2
    assert "8080->8080 is published on 0.0.0.0" in messages[0]
    assert "5433->5432" in messages[1] and "Docker's default" in messages[1]


def test_publish_all_ports_and_host_network_are_reported():
    messages = check(validate_ports_on_localhost, t.CONTAINER, {"publishAllPorts": True, "networkMode": "host"})
    assert len(messages) == 2


def test_allowed_host_ips_are_configurable():
    ports = [{"internal": 8080, "external": 8080, "ip": "10.0.0.5"}]
    assert check(validate_ports_on_localhost, t.CONTAINER, {"ports": ports})
    assert check(validate_ports_on_localhost, t.CONTAINER, {"ports": ports}, {"allowedHostIps": ["10.0.0.5"]}) == []


def test_unknown_or_missing_ports_are_not_judged():
    assert check(validate_ports_on_localhost, t.CONTAINER, {"ports": UNKNOWN_ARRAY}) == []
    assert check(validate_ports_on_localhost, t.CONTAINER, {"ports": [UNKNOWN_OBJECT]}) == []
    assert check(validate_ports_on_localhost, t.CONTAINER, {"ports": [{"internal": 1, "ip": UNKNOWN_STRING}]}) == []
    assert check(validate_ports_on_localhost, t.CONTAINER, {}) == []
