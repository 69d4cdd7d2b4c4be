"""`ops plan STACK`: the repository's stacks pass, bad stacks are refused naming every violated rule,
config errors are one line, and no secret reaches the output."""
from __future__ import annotations

import json

import pytest

from infra.offline import plan_stack
from tests.policy.conftest import REPO_ROOT

REPO_STACKS = sorted(path.name.split(".")[1] for path in REPO_ROOT.glob("Pulumi.*.yaml"))
BAD_LABELS = ["managed-by=pulumi"]
PROJECT = "policy-test-project"


def violated_policies(result) -> set[str]:
    return {line.split("] ", 1)[1].split(":", 1)[0] for line in result.stdout.splitlines() if line.startswith("  [")}


def test_the_repository_has_the_dev_and_prod_stack_files():
    assert {"dev", "prod"} <= set(REPO_STACKS)


@pytest.mark.parametrize("stack", REPO_STACKS)
def test_every_repository_stack_plans_and_passes_the_pack(ops, stack):
    result = ops("plan", stack, "--project-dir", str(REPO_ROOT))
    assert result.exit_code == 0, result.output
    planned = plan_stack(stack)
    assert result.stdout.startswith(f"Stack {stack}: {len(planned.resources)} resources\n")
    for resource in planned.resources:
        assert f"─ {resource.name}  {resource.type}" in result.stdout
    assert "[mandatory]" not in result.stdout


def test_a_bad_vm_stack_is_refused_naming_every_violated_rule(ops, scratch_project):
    stack = scratch_project.stack("bad", target="vm", gcpProject=PROJECT, protectData=False, vmExternalIp=True,
                                  vmAllowedCidrs=["10.0.0.0/8"], labels=BAD_LABELS)
    result = ops("plan", stack, "--project-dir", str(scratch_project.dir))
    assert result.exit_code == 1
    assert violated_policies(result) == {"vm-public-ip-restricted", "data-protected", "required-labels"}
    assert "VM vm-instance has a public IP and firewall" in result.stdout and "10.0.0.0/8" in result.stdout
    assert "fix: Set kestra-stack:protectData true" in result.stdout
    mandatory = result.stdout.count("  [mandatory] ")
    assert mandatory >= 3 and result.stderr == f"Error: stack bad: {mandatory} mandatory policy violation(s)\n"


def test_a_bad_docker_stack_is_refused_naming_every_violated_rule(ops, scratch_project):
    stack = scratch_project.stack("bad", target="docker", gcpProject=PROJECT, protectData=False,
                                  bindAddress="0.0.0.0", labels=BAD_LABELS)
    result = ops("plan", stack, "--project-dir", str(scratch_project.dir))
    assert result.exit_code == 1
    assert violated_policies(result) == {"docker-ports-on-localhost", "data-protected", "required-labels"}
    assert "port 8080->8080 is published on 0.0.0.0" in result.stdout


@pytest.mark.parametrize("key, value", [("kestraImage", "kestra/kestra:latest"), ("vmAllowedCidrs", ["0.0.0.0/0"])])
def test_config_the_settings_refuse_is_one_error_line(ops, scratch_project, key, value):
    config = {"target": "vm", "gcpProject": PROJECT, "vmExternalIp": True, "vmAllowedCidrs": ["203.0.113.0/24"]}
    stack = scratch_project.stack("bad", **{**config, key: value})
    result = ops("plan", stack, "--project-dir", str(scratch_project.dir))
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith(f"Error: kestra-stack:{key}: ") and result.stderr.count("\n") == 1


def test_a_missing_stack_file_is_one_error_line(ops, scratch_project):
    result = ops("plan", "nope", "--project-dir", str(scratch_project.dir))
    assert result.exit_code == 1
    assert result.stderr == f"Error: {scratch_project.dir / 'Pulumi.nope.yaml'}: no such file\n"


def test_a_malformed_stack_file_is_one_error_line_naming_it(ops, scratch_project):
    (scratch_project.dir / "Pulumi.broken.yaml").write_text("config:\n  kestra-stack:target: [docker\n")
    result = ops("plan", "broken", "--project-dir", str(scratch_project.dir))
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == f"Error: {scratch_project.dir / 'Pulumi.broken.yaml'}: not valid YAML (line 3)\n"


def test_policy_config_file_can_make_a_rule_advisory(ops, scratch_project):
    stack = scratch_project.stack("staging", target="vm", gcpProject=PROJECT, labels=BAD_LABELS)
    strict = ops("plan", stack, "--project-dir", str(scratch_project.dir))
    assert strict.exit_code == 1 and violated_policies(strict) == {"required-labels"}
    config = scratch_project.dir / "policy-config.json"
    config.write_text(json.dumps({"required-labels": "advisory"}))
    result = ops("plan", stack, "--project-dir", str(scratch_project.dir), "--policy-config", str(config))
    assert result.exit_code == 0, result.output
    assert "[advisory] required-labels" in result.stdout and "[mandatory]" not in result.stdout


def test_a_bad_policy_config_file_is_one_error_line(ops, scratch_project):
    config = scratch_project.dir / "policy-config.json"
    config.write_text(json.dumps({"images-pinned": {"movingTags": "latest"}}))
    result = ops("plan", "dev", "--project-dir", str(REPO_ROOT), "--policy-config", str(config))
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"Error: {config}: images-pinned.movingTags:")


@pytest.mark.parametrize("where", ["command", "group"])
def test_json_output_lists_resources_settings_and_violations(ops, scratch_project, where):
    stack = scratch_project.stack("bad", target="docker", bindAddress="0.0.0.0")
    project = ("--project-dir", str(scratch_project.dir))
    result = ops("plan", stack, *project, "--json") if where == "command" else ops("--json", "plan", stack, *project)
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    kestra = next(r for r in document["resources"] if r["name"] == "local-kestra")
    assert kestra["type"] == "docker:index/container:Container" and kestra["settings"]["ports"] == "0.0.0.0:8080->8080"
    assert {v["policy"] for v in document["violations"]} == {"docker-ports-on-localhost"}
    assert all(v["fix"] and v["resource"] for v in document["violations"])


def test_the_project_dir_is_found_above_the_current_directory(ops, monkeypatch):
    monkeypatch.chdir(REPO_ROOT / "infra")
    assert ops("plan", "dev").exit_code == 0


def test_no_generated_secret_reaches_the_output(ops, scratch_project):
    stack = scratch_project.stack("leaky", target="docker", gcpProject=PROJECT, bindAddress="0.0.0.0")
    planned = plan_stack(stack, scratch_project.dir)
    secrets = [entry.split("=", 1)[1] for r in planned.of_type("docker:index/container:Container")
               for entry in r.inputs.get("envs", []) if "PASSWORD" in entry.split("=", 1)[0]]
    secrets += [r.inputs["result"] for r in planned.resources if "result" in r.inputs]
    assert len(secrets) >= 3
    for flag in ((), ("--json",)):
        result = ops("plan", stack, "--project-dir", str(scratch_project.dir), *flag)
        assert result.exit_code == 1
        assert not [s for s in secrets if s in result.output]
