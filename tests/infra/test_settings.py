"""parse_settings: the committed config parses; each invalid config fails naming its key."""

from __future__ import annotations

import json

import pytest
import yaml

from infra.offline import REPO_ROOT
from infra.settings import CONFIG_KEYS, ConfigError, parse_settings
from tests.infra.raw_config import GCP_PROJECT, PUNCTUATION_PASSWORD, raw_config, vm_raw_config


def fails(raw: dict[str, str], key: str, reason_fragment: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw)
    message = str(caught.value)
    assert message.startswith(f"kestra-stack:{key}: "), message
    assert reason_fragment in message
    return caught.value


# --- the committed config ----------------------------------------------------------------------


def test_pulumi_yaml_declares_exactly_the_keys_settings_reads_with_type_default_and_description():
    declared = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())["config"]
    assert set(declared) == set(CONFIG_KEYS)
    python_types = {"string": str, "integer": int, "boolean": bool, "array": list}
    for key, spec in declared.items():
        assert spec["type"] in python_types, key
        assert isinstance(spec["default"], python_types[spec["type"]]), key
        assert spec.get("description"), key
        if spec["type"] == "array":
            assert spec["items"] == {"type": "string"}, key
            assert all(isinstance(item, str) for item in spec["default"]), key


def test_pulumi_yaml_runs_the_python_program_from_the_project_virtualenv():
    project = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == "kestra-stack"
    assert project["main"] == "infra/"
    assert project["runtime"] == {"name": "python",
                                  "options": {"toolchain": "pip", "virtualenv": ".venv"}}
    assert (REPO_ROOT / "infra" / "__main__.py").is_file()


def test_dev_stack_parses_to_docker_without_data_lake_and_green_2019_backfill():
    settings = parse_settings(raw_config("dev"))
    assert settings.target == "docker" and settings.vm is None
    assert settings.data_lake_enabled is False and settings.bucket_name is None
    assert settings.bind_address == "127.0.0.1"
    assert settings.enable_docker_task_runner is False
    [backfill] = settings.backfills
    assert backfill.as_output() == {
        "flow_id": "02_postgres_taxi_scheduled", "trigger_id": "green_schedule",
        "start": "2019-01-01T00:00:00-05:00", "end": "2019-12-31T23:59:59-05:00",
        "inputs": {"taxi": "green"}, "labels": {"backfill": "green-2019"},
    }


def test_gcp_project_turns_on_the_data_lake_with_a_derived_bucket_name():
    settings = parse_settings(raw_config(gcpProject=GCP_PROJECT))
    assert settings.data_lake_enabled
    assert settings.bucket_name == f"{GCP_PROJECT}-zoomcamp"
    assert settings.gcp_location == "US"


def test_vm_target_parses_vm_settings_with_private_defaults():
    settings = parse_settings(vm_raw_config())
    assert settings.vm is not None
    assert settings.vm.external_ip is False and settings.vm.allowed_cidrs == ()
    assert settings.vm.tunnel_port == 8080 and settings.kestra_storage == "local"
    assert settings.vm.zone.startswith(settings.gcp_region)


def test_settings_repr_never_shows_the_configured_password():
    settings = parse_settings(raw_config(kestraPassword="MyOwnPassw0rd"))
    assert settings.kestra_password == "MyOwnPassw0rd"
    assert "MyOwnPassw0rd" not in repr(settings)


def test_a_missing_key_is_an_error_not_a_silent_default():
    raw = raw_config()
    del raw["kestraImage"]
    fails(raw, "kestraImage", "missing")


# --- one test per invalid config -----------------------------------------------------------------


@pytest.mark.parametrize("bucket, reason", [
    ("ab", "3-63 characters"),
    ("x" * 64, "3-63 characters"),
    ("My_Bucket", "lower-case"),
    ("zoomcamp.example.com", "dots"),
    ("-zoomcamp", "starting and ending"),
    ("google-zoomcamp-data", "google"),
    ("goog-zoomcamp", "goog"),
])
def test_bucket_name_breaking_gcs_naming_rules_names_the_key(bucket, reason):
    fails(raw_config(gcpProject=GCP_PROJECT, bucketName=bucket), "bucketName", reason)


def test_bucket_name_without_a_project_names_the_key():
    fails(raw_config(bucketName="my-zoomcamp-bucket"), "bucketName", "gcpProject")


def test_dataset_id_with_a_dash_names_the_key_and_suggests_underscores():
    error = fails(raw_config(datasetId="zoomcamp-taxi"), "datasetId", "contains '-'")
    assert "'zoomcamp_taxi'" in str(error)


@pytest.mark.parametrize("location", ["NAM4", "us-central1+us-east1", "ASIA", "somewhere"])
def test_location_that_bucket_and_dataset_cannot_share_names_the_key(location):
    fails(raw_config(gcpProject=GCP_PROJECT, gcpLocation=location), "gcpLocation",
          "different locations")


@pytest.mark.parametrize("username", ["admin", "admin@", "zoomcamp@localhost", "a b@example.com"])
def test_kestra_username_not_an_email_names_the_key(username):
    fails(raw_config(kestraUsername=username), "kestraUsername", "e-mail")


@pytest.mark.parametrize("email", ["admin@kestra.local", "me@pgadmin.test"])
def test_pgadmin_email_under_a_special_use_domain_names_the_key(email):
    fails(raw_config(pgadminEmail=email), "pgadminEmail", "pgAdmin refuses")


def test_course_default_login_is_refused():
    fails(raw_config(kestraUsername="admin@kestra.io"), "kestraUsername", "course's default")
    fails(raw_config(pgadminEmail="admin@admin.com"), "pgadminEmail", "course's default")


@pytest.mark.parametrize("password", ["Sh0rt", "alllowercase1", "ALLUPPERCASE1", "NoDigitsHere"])
def test_kestra_password_breaking_kestras_policy_names_the_key_without_echoing_it(password):
    error = fails(raw_config(kestraPassword=password), "kestraPassword", "password policy")
    assert password not in str(error)


def test_kestra_password_from_the_course_is_refused():
    error = fails(raw_config(kestraPassword="Admin1234!"), "kestraPassword", "course's default")
    assert "Admin1234!" not in str(error)


def test_kestra_password_with_a_micronaut_placeholder_is_refused_but_a_lone_dollar_is_not():
    fails(raw_config(kestraPassword="Dollar${ign1}"), "kestraPassword", "'${'")
    assert parse_settings(raw_config(kestraPassword="Dollar$ign1")).kestra_password == "Dollar$ign1"


@pytest.mark.parametrize("password", ["Line1\nBreak", "Tab1\tInside", "A1" + "b" * 255])
def test_kestra_password_kestra_would_refuse_is_refused(password):
    error = fails(raw_config(kestraPassword=password), "kestraPassword", "password policy")
    assert password not in str(error)


def test_kestra_password_with_every_ascii_punctuation_character_is_accepted():
    assert parse_settings(raw_config(kestraPassword=PUNCTUATION_PASSWORD)).kestra_password == PUNCTUATION_PASSWORD


@pytest.mark.parametrize("key, other", [("pgadminPort", "kestraPort"), ("postgresPort", "kestraPort")])
def test_two_services_on_one_host_port_names_the_second_key(key, other):
    raw = raw_config(**{key: raw_config()[other]})
    error = fails(raw, key, "already used")
    assert f"kestra-stack:{other}" in str(error)


@pytest.mark.parametrize("key", ["kestraImage", "postgresImage", "pgadminImage"])
@pytest.mark.parametrize("image, reason", [
    ("postgres", "no tag"),
    ("registry.example.com:5000/team/postgres", "no tag"),
    ("postgres:latest", "moving tag"),
    ("kestra/kestra:latest-lts", "moving tag"),
])
def test_image_without_a_pinned_tag_names_the_key(key, image, reason):
    fails(raw_config(**{key: image}), key, reason)


def test_image_pinned_by_digest_or_registry_port_and_tag_is_accepted():
    settings = parse_settings(raw_config(
        postgresImage="postgres@sha256:" + "a" * 64,
        pgadminImage="registry.example.com:5000/dpage/pgadmin4:9.17"))
    assert settings.images.postgres.endswith("a" * 64)


@pytest.mark.parametrize("key, value, reason", [
    ("target", "kubernetes", "one of docker, vm"),
    ("protectData", "yes", "true or false"),
    ("kestraPort", "80a", "integer"),
    ("kestraPort", "70000", "between 1 and 65535"),
    ("bindAddress", "localhost", "not an IP address"),
    ("labels", '["Team=data"]', "key=value"),
    ("gcpProject", "My_Project", "project id"),
    ("kestraStorage", "gcs", "only available on the vm target"),
])
def test_other_malformed_values_name_their_key(key, value, reason):
    fails(raw_config(**{key: value}), key, reason)


@pytest.mark.parametrize("entry, reason", [
    ({"flow_id": "02_postgres_taxi_scheduled", "trigger_id": "green_schedule",
      "start": "2019-01-01T00:00:00", "end": "2019-12-31T00:00:00-05:00"}, "UTC offset"),
    ({"flow_id": "02_postgres_taxi_scheduled", "trigger_id": "green_schedule",
      "start": "2020-01-01T00:00:00-05:00", "end": "2019-01-01T00:00:00-05:00"}, "before end"),
    ({"flow_id": "02_postgres_taxi_scheduled", "start": "2019-01-01T00:00:00-05:00",
      "end": "2019-12-31T00:00:00-05:00"}, "missing trigger_id"),
    ({"flow_id": "x", "trigger_id": "y", "start": "2019-01-01T00:00:00Z",
      "end": "2019-02-01T00:00:00Z", "when": "now"}, "unknown fields"),
])
def test_malformed_backfill_names_the_key(entry, reason):
    fails(raw_config(backfills=json.dumps([json.dumps(entry)])), "backfills", reason)


def test_vm_target_needs_a_project():
    fails(raw_config(target="vm"), "gcpProject", "required for the vm target")


def test_vm_zone_outside_the_region_names_the_key():
    fails(vm_raw_config(vmZone="europe-west1-b"), "vmZone", "not in")


def test_vm_external_ip_without_allowed_ranges_names_the_key():
    fails(vm_raw_config(vmExternalIp="true"), "vmAllowedCidrs", "must list")


@pytest.mark.parametrize("cidr", ["0.0.0.0/0", "::/0"])
def test_vm_allowed_ranges_refuse_the_whole_internet(cidr):
    fails(vm_raw_config(vmExternalIp="true", vmAllowedCidrs=json.dumps([cidr])),
          "vmAllowedCidrs", "whole internet")


def test_vm_allowed_ranges_must_be_cidrs():
    fails(vm_raw_config(vmAllowedCidrs='["10.0.0.1/8"]'), "vmAllowedCidrs", "not a CIDR")


def test_vm_with_external_ip_and_own_range_parses():
    settings = parse_settings(vm_raw_config(vmExternalIp="true",
                                            vmAllowedCidrs='["203.0.113.7/32"]', kestraStorage="gcs"))
    assert settings.vm.allowed_cidrs == ("203.0.113.7/32",)
    assert settings.kestra_storage == "gcs"
