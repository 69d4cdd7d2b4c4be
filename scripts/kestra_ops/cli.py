"""`ops`: one click group. Commands live in their own modules and are imported only when run (or listed
by --help), so start-up stays fast; httpx, rich, yaml and pulumi are imported inside the commands."""

from __future__ import annotations

import importlib
from pathlib import Path

import click

from kestra_ops.errors import OpsError

# name -> "module:attribute"; adding a command is one line here.
COMMANDS = {
    "wait": "kestra_ops.commands.wait:wait",
    "seed-flows": "kestra_ops.commands.seed:seed_flows",
    "seed-kv": "kestra_ops.commands.seed:seed_kv",
    "seed-backfills": "kestra_ops.commands.seed:seed_backfills",
    "seed": "kestra_ops.commands.seed:seed",
    "status": "kestra_ops.commands.status:status",
    "run": "kestra_ops.commands.run:run",
    "plan": "kestra_ops.commands.plan:plan",
}


class OpsGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attribute = target.split(":")
        return getattr(importlib.import_module(module), attribute)

    def invoke(self, ctx: click.Context):
        """The one place where expected failures become an error line and exit code 1."""
        try:
            return super().invoke(ctx)
        except OpsError as error:
            session = ctx.obj
            message = session.redact(str(error)) if session is not None else str(error)
            raise click.ClickException(message) from None


@click.group(cls=OpsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--stack", metavar="NAME", help="Read the Pulumi stack's outputs (needs the pulumi CLI).")
@click.option(
    "--outputs",
    "outputs_file",
    envvar="OPS_OUTPUTS",
    metavar="FILE",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Read the outputs from a JSON file (`pulumi stack output --json --show-secrets`).",
)
@click.option("--url", envvar="KESTRA_URL", show_envvar=True, help="Kestra base URL (overrides kestra_url).")
@click.option("--username", envvar="KESTRA_USERNAME", show_envvar=True, help="Basic-auth user (overrides kestra_username).")
@click.option("--password", envvar="KESTRA_PASSWORD", show_envvar=True, help="Basic-auth password (overrides kestra_password).")
@click.option("--json", "json_output", envvar="OPS_JSON", is_flag=True, help="Print one JSON document instead of lines.")
@click.option("--retries", type=click.IntRange(1, 20), default=6, show_default=True, help="Attempts per request.")
@click.option("--retry-backoff", type=click.FloatRange(0), default=0.5, show_default=True, help="First backoff, seconds.")
@click.option("--retry-max-delay", type=click.FloatRange(0), default=30.0, show_default=True, help="Longest wait, seconds.")
@click.pass_context
def cli(
    ctx: click.Context,
    stack: str | None,
    outputs_file: Path | None,
    url: str | None,
    username: str | None,
    password: str | None,
    json_output: bool,
    retries: int,
    retry_backoff: float,
    retry_max_delay: float,
) -> None:
    """Seed a Kestra instance with the project's flows, namespace files, KV entries and backfills.

    Connection settings: flags > environment (KESTRA_URL, KESTRA_USERNAME, KESTRA_PASSWORD) > stack outputs.
    Exit codes: 0 ok, 1 failure, 2 usage error.
    """
    if stack and outputs_file:
        raise click.UsageError("give either --stack or --outputs, not both")
    from kestra_ops.session import GlobalOptions, Session

    ctx.obj = Session(
        GlobalOptions(stack, outputs_file, url, username, password, json_output, retries, retry_backoff, retry_max_delay)
    )


def main() -> None:
    cli(auto_envvar_prefix="OPS")
