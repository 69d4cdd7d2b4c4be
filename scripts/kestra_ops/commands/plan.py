"""`ops plan STACK`: what `pulumi up` would create for a stack, and what the policy pack says about it —
offline (Pulumi's mocks run the real program; no cloud, no Pulumi CLI)."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

import click

from kestra_ops.errors import OpsError


def _project_dir(start: Path) -> Path:
    for directory in (start, *start.parents):
        if (directory / "Pulumi.yaml").is_file():
            return directory
    raise OpsError(f"{start}: no Pulumi.yaml here or above; give --project-dir")


@click.command()
@click.argument("stack")
@click.option("--project-dir", type=click.Path(path_type=Path, file_okay=False, exists=True),
              help="Directory with Pulumi.yaml and Pulumi.<STACK>.yaml (default: the nearest one above the current directory).")
@click.option("--policy-config", type=click.Path(path_type=Path, dir_okay=False),
              help="Policy config file, as for `pulumi preview --policy-pack-config`.")
@click.option("--json", "json_flag", is_flag=True, help="Print one JSON document instead of the tree.")
@click.pass_obj
def plan(session, stack: str, project_dir: Path | None, policy_config: Path | None, json_flag: bool) -> None:
    """Plan STACK offline and check it against the policy pack; exit 1 on any mandatory violation.

    \b
    Example:  ops plan prod
              ops plan dev --policy-config policy-config.json --json
    """
    from infra.offline import StackFileError, plan_stack
    from infra.settings import ConfigError
    from kestra_ops.infra_tree import render, settings
    from kestra_policy.offline import PolicyConfigError, Resource, evaluate, load_policy_config

    json_output = json_flag or session.options.json_output
    project = project_dir.resolve() if project_dir else _project_dir(Path.cwd())
    try:
        config = load_policy_config(policy_config) if policy_config else {}
        with contextlib.redirect_stdout(sys.stderr):  # the program's prints must not mix with the plan
            planned = plan_stack(stack, project)
    except (ConfigError, StackFileError, PolicyConfigError) as error:
        raise OpsError(str(error)) from None

    resources = [Resource(r.type, r.name, r.inputs, r.parent) for r in planned.resources]
    violations = evaluate(resources, stack, config)
    mandatory = [v for v in violations if v.mandatory]

    if json_output:
        click.echo(json.dumps({
            "stack": stack,
            "resources": [{"type": r.type, "name": r.name, "parent": r.parent, "settings": settings(r)}
                          for r in planned.resources],
            "violations": [{"policy": v.policy, "level": v.level, "resource_type": v.resource_type,
                            "resource": v.resource_name, "message": v.message, "fix": v.fix} for v in violations],
        }, indent=2))
    else:
        click.echo(f"Stack {stack}: {len(planned.resources)} resources")
        for line in render(planned.resources):
            click.echo(line)
        click.echo("")
        if not violations:
            click.echo("Policies: no violations")
        else:
            click.echo(f"Policies: {len(mandatory)} mandatory, {len(violations) - len(mandatory)} advisory violation(s)")
            for v in violations:
                subject = f"{v.resource_name} ({v.resource_type})" if v.resource_name else "the stack"
                click.echo(f"  [{v.level}] {v.policy}: {subject}")
                click.echo(f"      {v.message}")
                if v.fix:
                    click.echo(f"      fix: {v.fix}")
    if mandatory:
        raise OpsError(f"stack {stack}: {len(mandatory)} mandatory policy violation(s)")
