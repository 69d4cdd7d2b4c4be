"""`ops seed-flows`, `ops seed-kv`, `ops seed-backfills` and `ops seed` (all of them, after `wait`)."""

from __future__ import annotations

from pathlib import Path

import click

DIRECTORY = click.argument(
    "directory", metavar="[DIR]", type=click.Path(path_type=Path, file_okay=False), default="flows", required=False
)
DRY_RUN = click.option("--dry-run", is_flag=True, help="Print the plan; write nothing.")
PRUNE = click.option("--prune", is_flag=True, help="Delete flows and namespace files of the managed namespaces that DIR lacks.")
STRICT = click.option("--strict", is_flag=True, help="A kv() key missing from kestra_kv is an error, not a warning.")
VERBOSE = click.option("-v", "--verbose", is_flag=True, help="List every kv() read a summarised warning stands for.")
TRIGGER_TIMEOUT = click.option(
    "--trigger-timeout", type=click.FloatRange(0), default=60.0, show_default=True,
    help="Seconds to wait for Kestra to register a flow's trigger.",
)

WAIT = click.option("--wait", "follow", is_flag=True,
                    help="Then follow the backfills to their end (a bar on a terminal); exit 1 if an execution did not succeed.")
WAIT_TIMEOUT = click.option("--wait-timeout", type=click.FloatRange(0), default=21600.0, show_default=True,
                            help="With --wait: seconds to follow the backfills (they go on on the server after that).")
POLL_INTERVAL = click.option("--poll-interval", type=click.FloatRange(0), default=5.0, show_default=True,
                             help="With --wait: seconds between two looks (two requests per unfinished backfill).")


@click.command("seed-flows")
@DIRECTORY
@PRUNE
@DRY_RUN
@STRICT
@VERBOSE
@click.pass_obj
def seed_flows(session, directory: Path, prune: bool, dry_run: bool, strict: bool, verbose: bool) -> None:
    """Validate DIR (default flows/) and upload its flows and namespace files.

    \b
    Example:  ops --stack dev seed-flows flows/ --dry-run
    """
    from kestra_ops import seeding

    with session.client() as client:
        summary = seeding.seed_flows(session, client, directory, prune=prune, dry_run=dry_run, strict=strict,
                                     verbose=verbose)
        seeding.finish(session.reporter, client, summary, dry_run)


@click.command("seed-kv")
@DRY_RUN
@click.pass_obj
def seed_kv(session, dry_run: bool) -> None:
    """Push the kestra_kv output into the namespace's KV store (values are never printed).

    \b
    Example:  ops --stack dev seed-kv
    """
    from kestra_ops import seeding

    with session.client() as client:
        summary = seeding.seed_kv(session, client, dry_run=dry_run)
        seeding.finish(session.reporter, client, summary, dry_run)


@click.command("seed-backfills")
@DRY_RUN
@TRIGGER_TIMEOUT
@WAIT
@WAIT_TIMEOUT
@POLL_INTERVAL
@click.pass_obj
def seed_backfills(session, dry_run: bool, trigger_timeout: float, follow: bool, wait_timeout: float,
                   poll_interval: float) -> None:
    """Create each kestra_backfills entry once (a running or finished one is skipped); --wait follows them.

    \b
    Example:  ops --outputs outputs.json seed-backfills --dry-run
              ops --stack dev seed-backfills --wait
    """
    from kestra_ops import seeding

    with session.client() as client:
        summary = seeding.seed_backfills(session, client, dry_run=dry_run, trigger_timeout_s=trigger_timeout,
                                         follow=(wait_timeout, poll_interval) if follow else None)
        seeding.finish(session.reporter, client, summary, dry_run)


@click.command("seed")
@DIRECTORY
@PRUNE
@DRY_RUN
@STRICT
@VERBOSE
@click.option("--timeout", type=click.FloatRange(0), default=120.0, show_default=True, help="Seconds to wait for Kestra.")
@TRIGGER_TIMEOUT
@WAIT
@WAIT_TIMEOUT
@POLL_INTERVAL
@click.pass_obj
def seed(session, directory: Path, prune: bool, dry_run: bool, strict: bool, verbose: bool, timeout: float,
         trigger_timeout: float, follow: bool, wait_timeout: float, poll_interval: float) -> None:
    """Wait for Kestra, then seed flows, KV entries and backfills; one summary at the end. --wait then
    follows the backfills to their end.

    \b
    Example:  ops --stack dev seed
              ops --stack dev seed --wait
    """
    from kestra_ops import seeding
    from kestra_ops.commands.wait import wait_until_ready

    session.require_outputs("kestra_namespace")
    with session.client() as client:
        summary = {"server": wait_until_ready(client, timeout)}
        summary.update(seeding.seed_flows(session, client, directory, prune=prune, dry_run=dry_run, strict=strict,
                                          verbose=verbose))
        summary.update(seeding.seed_kv(session, client, dry_run=dry_run))
        summary.update(seeding.seed_backfills(session, client, dry_run=dry_run, trigger_timeout_s=trigger_timeout,
                                              follow=(wait_timeout, poll_interval) if follow else None))
        seeding.finish(session.reporter, client, summary, dry_run)
