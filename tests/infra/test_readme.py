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
