"""The README's gke section documents the gke stack: its extra outputs and the commands it needs."""

from __future__ import annotations

from tests.infra.readme_sections import readme_section


def gke_section() -> str:
    return readme_section("gke")


def test_readme_lists_every_output_only_the_gke_target_has(gke_plan, dev_gcp_plan):
    extra = set(gke_plan.outputs) - set(dev_gcp_plan.outputs)
    assert {"kubeconfig", "kestra_port_forward_command", "pgadmin_port_forward_command"} <= extra
    assert sorted(name for name in extra if f"`{name}`" not in gke_section()) == []


def test_readme_shows_the_commands_the_outputs_give(gke_plan):
    section = gke_section()
    for name in ("gke_credentials_command", "kestra_port_forward_command"):
        assert gke_plan.outputs[name].replace("replace-with-your-project", "my-project") in section, name
    for command in ("pulumi up -s gke", "ops seed --stack gke", "pulumi destroy -s gke --exclude-protected",
                    "pulumi config set -s gke protectData false", "pulumi preview -s gke --policy-pack policy/",
                    "gcloud services enable container.googleapis.com sqladmin.googleapis.com",
                    "servicenetworking.googleapis.com", "gke-gcloud-auth-plugin", "1.0.20", "v1.1.6",
                    "kestra-io/kestra#14196"):
        assert command in section, command
