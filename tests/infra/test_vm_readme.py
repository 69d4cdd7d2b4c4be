"""The README's vm section documents the prod stack: its extra outputs and the commands it needs."""

from __future__ import annotations

from tests.infra.readme_sections import readme_section


def vm_section() -> str:
    return readme_section("vm")


def test_readme_lists_every_output_only_the_vm_target_has(prod_plan, dev_gcp_plan):
    extra = set(prod_plan.outputs) - set(dev_gcp_plan.outputs)
    assert extra  # the tunnel commands at least
    assert sorted(name for name in extra if f"`{name}`" not in vm_section()) == []


def test_readme_shows_set_up_tunnel_seed_and_teardown_commands(prod_plan):
    section = vm_section()
    for command in ("pulumi up -s prod", "ops seed --stack prod", "pulumi destroy -s prod --exclude-protected",
                    "pulumi config set -s prod protectData false", "kestraStorage gcs",
                    "gcloud services enable", "35.235.240.0/20"):
        assert command in section, command
    tunnel = prod_plan.outputs["kestra_tunnel_command"].replace("replace-with-your-project", "my-project")
    assert tunnel.replace(" --zone", " \\\n  --zone") in section
