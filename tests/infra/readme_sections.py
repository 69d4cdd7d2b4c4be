"""A README section between `<!-- BEGIN name -->` and `<!-- END name -->`."""

from __future__ import annotations

import re

from infra.offline import REPO_ROOT


def readme_section(name: str) -> str:
    text = (REPO_ROOT / "README.md").read_text()
    match = re.search(rf"<!-- BEGIN {name} -->(.*?)<!-- END {name} -->", text, re.S)
    assert match, f"README has no {name} section"
    return match.group(1)
