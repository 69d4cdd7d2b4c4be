"""The README's gke section documents the gke stack: its extra outputs and the commands it needs."""

from __future__ import annotations

from infra.offline import REPO_ROOT
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


def test_readme_names_every_flow_autopilot_cannot_run():
    """The flows whose tasks run on Kestra's Docker task runner, which Autopilot cannot host (no dind)."""
    needing_docker = sorted(path.stem for path in (REPO_ROOT / "flows" / "zoomcamp").glob("*.yaml")
                            if "io.kestra.plugin.scripts.runner.docker.Docker" in path.read_text())
    assert needing_docker
    autopilot = gke_section().split("**The Docker task runner**", 1)[1].split("\n\n", 1)[0]
    assert [flow for flow in needing_docker if f"`{flow}`" not in autopilot] == []
