import base64
import json

import pytest

from kestra_policy import types as t
from kestra_policy.rules.secrets import validate_no_plaintext_secrets

from tests.policy.rule_harness import UNKNOWN_ARRAY, UNKNOWN_OBJECT, UNKNOWN_STRING, check

GENERATED = "Xq7Lr2Vt9Kp4Wm1Zs8Nb3Hc6"  # what pulumi-random produces: long, mixed, alphanumeric
KESTRA_CONFIG = (
    "datasources:\n  postgres:\n    url: jdbc:postgresql://kestra-postgres:5432/kestra\n    username: kestra\n"
    f"    password: {GENERATED}\nkestra:\n  server:\n    basic-auth:\n      username: ops@example.com\n"
    f"      password: {GENERATED}\n"
)


def envs(*entries):
    return {"image": "kestra/kestra:v1.1.6", "envs": list(entries)}


def test_generated_credentials_and_references_in_container_env_pass():
    props = envs(f"POSTGRES_PASSWORD={GENERATED}", "POSTGRES_USER=taxi", f"KESTRA_CONFIGURATION={KESTRA_CONFIG}",
                 "PGPASS_FILE=/pgpass", "GOOGLE_APPLICATION_CREDENTIALS=/secrets/key.json",
                 "SECRET_GCP_CREDS=${GCP_CREDS}", "PGADMIN_DEFAULT_PASSWORD={{ secret('PGADMIN') }}")
    assert check(validate_no_plaintext_secrets, t.CONTAINER, props) == []


@pytest.mark.parametrize("entry, expected", [
    ("POSTGRES_PASSWORD=k3str4", "POSTGRES_PASSWORD"),
    ("PGADMIN_DEFAULT_PASSWORD=Admin1234!", "PGADMIN_DEFAULT_PASSWORD"),
    ("API_TOKEN=short", "API_TOKEN"),
    ("KESTRA_CONFIGURATION=kestra:\n  server:\n    basic-auth:\n      password: k3str4\n", "line 4"),
    ("JDBC_URL=jdbc:postgresql://taxi:root@taxi-postgres:5432/ny_taxi", "URL carries a literal password"),
    ("NOTE=-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----", "private key"),
    ("GITHUB=ghp_" + "a1B2" * 9, "GitHub token"),
])
def test_plaintext_secrets_in_container_env_are_reported_without_their_value(entry, expected):
    messages = check(validate_no_plaintext_secrets, t.CONTAINER, envs(entry))
    assert messages and any(expected in m for m in messages)
    value = entry.split("=", 1)[1]
    secret_part = value.split("password: ")[-1].strip() if "password: " in value else value
    assert all(secret_part not in m for m in messages)


def test_allowed_env_names_and_minimum_length_are_configurable():
    props = envs("DEMO_PASSWORD=k3str4")
    assert check(validate_no_plaintext_secrets, t.CONTAINER, props, {"allowedEnvNames": ["DEMO_PASSWORD"]}) == []
    short_generated = envs("DB_PASSWORD=Xq7Lr2Vt9Kp4")
    assert check(validate_no_plaintext_secrets, t.CONTAINER, short_generated)
    assert check(validate_no_plaintext_secrets, t.CONTAINER, short_generated, {"minGeneratedLength": 12}) == []


def test_metadata_with_placeholders_and_secret_manager_reads_passes():
    script = ("#!/bin/bash\nset -euo pipefail\n"
              'KESTRA_PASSWORD="$(gcloud secrets versions access latest --secret=kestra-password)"\n')
    compose = "services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: ${TAXI_DB_PASSWORD}\n"
    names = "KESTRA_PASSWORD=projects/p/secrets/kestra-password/versions/latest\nDB_PASSWORD: projects/p/secrets/db\n"
    props = {"metadata": {"startup-script": script, "kestra-compose": compose, "enable-oslogin": "TRUE",
                          "kestra-secrets": names}}
    assert check(validate_no_plaintext_secrets, t.INSTANCE, props) == []


def test_any_literal_secret_in_metadata_is_reported_even_a_generated_one():
    compose = f"services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: {GENERATED}\n"
    messages = check(validate_no_plaintext_secrets, t.INSTANCE, {"metadata": {"kestra-compose": compose}})
    assert messages == ["metadata.kestra-compose line 4: POSTGRES_PASSWORD is set to a literal value instead of a reference to a secret."]
    assert all(GENERATED not in m for m in messages)


def test_service_account_key_in_metadata_is_reported():
    key = base64.b64encode(json.dumps({"type": "service_account", "private_key": "x"}, indent=2).encode()).decode()
    for props in ({"metadata": {"gcp-creds": key}}, {"metadataStartupScript": f"echo '{key}' > /key.json"}):
        messages = check(validate_no_plaintext_secrets, t.INSTANCE, props)
        assert any("private key" in m for m in messages)


def test_unknown_or_missing_env_and_metadata_are_not_judged():
    assert check(validate_no_plaintext_secrets, t.CONTAINER, {"envs": UNKNOWN_ARRAY}) == []
    assert check(validate_no_plaintext_secrets, t.CONTAINER, {"envs": [UNKNOWN_STRING, "A=b"]}) == []
    assert check(validate_no_plaintext_secrets, t.CONTAINER, {}) == []
    assert check(validate_no_plaintext_secrets, t.INSTANCE, {"metadata": UNKNOWN_OBJECT}) == []
    assert check(validate_no_plaintext_secrets, t.INSTANCE, {"metadata": {"startup-script": UNKNOWN_STRING}}) == []
