"""Fixtures of the policy tests: a throw-away Pulumi project holding stack files a test writes."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

REPO_ROOT = Path(__file__).resolve().parents[2]


class ScratchProject:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        shutil.copy(REPO_ROOT / "Pulumi.yaml", directory / "Pulumi.yaml")

    def stack(self, name: str, **config: object) -> str:
        document = {"config": {f"kestra-stack:{key}": value for key, value in config.items()}}
        (self.dir / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump(document))
        return name


@pytest.fixture
def scratch_project(tmp_path) -> ScratchProject:
    return ScratchProject(tmp_path)


@pytest.fixture
def ops():
    """Runs `ops ARGS…` in-process; returns click's Result (stdout and stderr apart)."""
    from kestra_ops.cli import cli

    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return run
