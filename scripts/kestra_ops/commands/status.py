"""`ops status`: what is deployed and whether it matches the repo and the stack outputs."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("directory", metavar="[DIR]", type=click.Path(path_type=Path, file_okay=False), default="flows", required=False)
@click.pass_obj
def status(session, directory: Path) -> None:
    """Show flows (revision, in sync or not), KV keys (type, never values) and backfills (window, state,
    executions by state and the ids of those that did not succeed).

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
        ("Backfills", "backfills", ["flow_id", "trigger_id", "window", "state", "detail", "progress"]),
    ):
        out.line(f"{title}:")
        for line in report.table(result[key], columns) if result[key] else ["  (none)"]:
            out.line(f"  {line}")
    for row in result["backfills"]:
        if row["executions"] and row["executions"]["failed"]:
            out.line(f"  {row['flow_id']}/{row['trigger_id']} did not succeed: {', '.join(row['executions']['failed'])}")
    out.document(result)
