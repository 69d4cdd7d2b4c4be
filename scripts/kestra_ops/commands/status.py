"""`ops status`: what is deployed and whether it matches the repo and the stack outputs."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("directory", metavar="[DIR]", type=click.Path(path_type=Path, file_okay=False), default="flows", required=False)
@click.pass_obj
def status(session, directory: Path) -> None:
    """Show flows (revision, in sync or not), KV keys (type, never values) and backfills (window, state).

    \b
    Example:  ops --stack dev status
    """
    from kestra_ops import status as report

    outputs = session.outputs
    with session.client() as client:
        namespace = outputs.kestra_namespace if outputs else None
        result = {
            "flows": report.flow_rows(client, directory, namespace),
            "kv": report.kv_rows(client, outputs),
            "backfills": report.backfill_rows(client, outputs),
        }
    out = session.reporter
    for title, key, columns in (
        ("Flows", "flows", ["namespace", "id", "revision", "state"]),
        ("KV", "kv", ["namespace", "key", "type", "state"]),
        ("Backfills", "backfills", ["flow_id", "trigger_id", "window", "state", "detail"]),
    ):
        out.line(f"{title}:")
        for line in report.table(result[key], columns) if result[key] else ["  (none)"]:
            out.line(f"  {line}")
    out.document(result)
