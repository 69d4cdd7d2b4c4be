"""The README's infra section documents every config key and every stack output."""

from __future__ import annotations

import re

from infra.offline import REPO_ROOT
from infra.settings import CONFIG_KEYS


def infra_section() -> str:
    text = (REPO_ROOT / "README.md").read_text()
    match = re.search(r"<!-- BEGIN infra -->(.*?)<!-- END infra -->", text, re.S)
    assert match, "README has no infra section"
    return match.group(1)


def test_readme_lists_every_config_key():
    section = infra_section()
    missing = [key for key in CONFIG_KEYS if f"`{key}`" not in section]
    assert missing == []


def test_readme_lists_every_output_of_both_dev_variants(dev_plan, dev_gcp_plan):
    section = infra_section()
    outputs = set(dev_plan.outputs) | set(dev_gcp_plan.outputs)
    assert [name for name in sorted(outputs) if f"`{name}`" not in section] == []


def test_readme_shows_the_set_up_commands():
    section = infra_section()
    for command in ("pulumi login --local", "pulumi stack init dev", "pulumi up -s dev",
                    "ops seed --stack dev", "pulumi destroy -s dev", "python -m tests.infra.inventory"):
        assert command in section, command


# The API each GCP resource module is served by. Project-level IAM goes through Cloud Resource Manager
# (terraform-provider-google google/services/resourcemanager/iam_project.go: Projects.GetIamPolicy /
# SetIamPolicy of cloudresourcemanager). A module missing here fails the test below: add its API.
API_OF_MODULE = {
    "storage": "storage.googleapis.com",
    "bigquery": "bigquery.googleapis.com",
    "serviceaccount": "iam.googleapis.com",
    "projects": "cloudresourcemanager.googleapis.com",
    "compute": "compute.googleapis.com",
    "secretmanager": "secretmanager.googleapis.com",
}


def apis_needed(plan) -> set[str]:
    modules = {resource.type.split(":")[1].split("/")[0] for resource in plan.resources
               if resource.type.startswith("gcp:")}
    return {API_OF_MODULE[module] for module in modules}


def enabled_apis(section: str) -> set[str]:
    commands = re.findall(r"gcloud services enable ((?:\\\n|[^`\n])+)", section)
    assert commands, "no `gcloud services enable` command"
    return set(re.findall(r"[a-z]+\.googleapis\.com", " ".join(commands)))


def test_readme_enables_every_api_the_data_lake_needs(dev_gcp_plan):
    assert apis_needed(dev_gcp_plan) - enabled_apis(infra_section()) == set()


def test_readme_enables_every_api_the_vm_stack_needs(prod_plan):
    from tests.infra.test_vm_readme import vm_section

    assert apis_needed(prod_plan) - enabled_apis(vm_section()) == set()
