"""plan_stack itself: config merging, failing before any resource, repeated runs in one process."""

from __future__ import annotations

import shutil

import pytest
from pulumi.runtime import mocks as pulumi_mocks

from infra.offline import REPO_ROOT, SECURE_STAND_IN, StackFileError, load_stack_config, plan_stack
from infra.settings import ConfigError


@pytest.fixture
def project_dir(tmp_path):
    """A copy of the project file with a stack file the test writes."""
    shutil.copy(REPO_ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    return tmp_path


@pytest.fixture
def registrations(monkeypatch) -> list[str]:
    """Every RegisterResource the mock monitor receives (the stack's own included)."""
    seen: list[str] = []
    original = pulumi_mocks.MockMonitor.RegisterResource

    def counting(self, request):
        seen.append(request.type)
        return original(self, request)

    monkeypatch.setattr(pulumi_mocks.MockMonitor, "RegisterResource", counting)
    return seen


@pytest.mark.parametrize("key, value", [
    ("bucketName", "Not_A_Bucket"),
    ("datasetId", "taxi-data"),
    ("gcpLocation", "NAM4"),
    ("kestraUsername", "admin"),
    ("kestraPassword", "weakpass"),
    ("pgadminPort", "8080"),
    ("kestraImage", "kestra/kestra:latest"),
])
def test_invalid_config_fails_naming_the_key_before_any_resource_is_registered(
        registrations, key, value):
    config = {"gcpProject": "zoomcamp-test-123", key: value}
    with pytest.raises(ConfigError) as caught:
        plan_stack("dev", config=config)
    assert str(caught.value).startswith(f"kestra-stack:{key}: ")
    assert [kind for kind in registrations if kind != "pulumi:pulumi:Stack"] == []


def test_a_valid_plan_does_register_resources(registrations):
    """The control for the test above: the counter sees registrations when there are some."""
    plan_stack("dev")
    assert len([kind for kind in registrations if kind != "pulumi:pulumi:Stack"]) >= 10


def test_plans_of_other_configs_and_stacks_in_one_process_leave_dev_as_planned_alone(
        dev_plan, dev_gcp_plan, prod_plan):
    assert len(dev_gcp_plan.resources) > len(dev_plan.resources)
    assert prod_plan.stack == "prod" and not prod_plan.of_type("docker:index/container:Container")
    assert plan_stack("dev") == dev_plan


def test_stack_file_values_override_pulumi_yaml_defaults_and_overrides_win():
    values, secret = load_stack_config("dev", overrides={"kestraPort": "18080"})
    assert values["target"] == "docker"  # default
    assert values["protectData"] == "false"  # Pulumi.dev.yaml
    assert values["kestraPort"] == "18080"  # override
    assert secret == set()


def test_encrypted_stack_value_is_planned_with_a_secret_stand_in(project_dir):
    (project_dir / "Pulumi.enc.yaml").write_text(
        "config:\n  kestra-stack:kestraPassword:\n    secure: AAABAKx1bm9wZQ==\n")
    values, secret = load_stack_config("enc", project_dir)
    assert values["kestraPassword"] == SECURE_STAND_IN and secret == {"kestraPassword"}
    plan = plan_stack("enc", project_dir)
    assert plan.outputs["kestra_password"] == SECURE_STAND_IN
    assert "kestra_password" in plan.secret_outputs
    # The configured password replaces the generated one; the others are still generated.
    generated = {r.name for r in plan.of_type("random:index/randomPassword:RandomPassword")}
    assert generated == {"credentials-kestra-db-password", "credentials-taxi-db-password",
                         "credentials-pgadmin-password"}


def test_plaintext_password_in_a_stack_file_is_refused_without_echoing_it(project_dir):
    (project_dir / "Pulumi.plain.yaml").write_text(
        "config:\n  kestra-stack:kestraPassword: Plaintext1Password\n")
    with pytest.raises(ConfigError) as caught:
        plan_stack("plain", project_dir)
    assert str(caught.value).startswith("kestra-stack:kestraPassword: must be stored encrypted")
    assert "Plaintext1Password" not in str(caught.value)


def test_undeclared_key_in_a_stack_file_names_the_key(project_dir):
    (project_dir / "Pulumi.typo.yaml").write_text("config:\n  kestra-stack:kestraPrt: 9090\n")
    with pytest.raises(ConfigError, match=r"^kestra-stack:kestraPrt: .*not declared"):
        load_stack_config("typo", project_dir)


def test_provider_config_in_a_stack_file_is_left_to_the_provider(project_dir):
    (project_dir / "Pulumi.gcp.yaml").write_text("config:\n  gcp:project: elsewhere\n")
    values, _ = load_stack_config("gcp", project_dir)
    assert "project" not in values


def test_missing_stack_file_is_reported_by_path(project_dir):
    with pytest.raises(StackFileError, match=r"Pulumi\.nope\.yaml: no such file$"):
        plan_stack("nope", project_dir)


def test_malformed_stack_file_is_reported_by_path_and_line(project_dir):
    (project_dir / "Pulumi.broken.yaml").write_text("config:\n  kestra-stack:target: docker\n   bad: [\n")
    with pytest.raises(StackFileError, match=r"Pulumi\.broken\.yaml: not valid YAML \(line 3\)$"):
        plan_stack("broken", project_dir)


def test_password_marked_secret_by_the_engine_environment_is_accepted(project_dir, monkeypatch):
    """The CLI may pass secret keys as PULUMI_CONFIG_SECRET_KEYS instead of through the runtime."""
    (project_dir / "Pulumi.envsecret.yaml").write_text(
        "config:\n  kestra-stack:kestraPassword: FromTheEngine1\n")
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", '["kestra-stack:kestraPassword"]')
    plan = plan_stack("envsecret", project_dir)
    assert plan.outputs["kestra_password"] == "FromTheEngine1"
