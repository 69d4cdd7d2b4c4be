"""The seed steps the commands run: each plans against the server, prints the plan, writes unless dry-run,
and returns a JSON-able summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kestra_ops.client import KestraClient
from kestra_ops.errors import OpsError, ValidationFailed
from kestra_ops.changes import counts
from kestra_ops.report import Reporter
from kestra_ops.session import Session


def seed_flows(
    session: Session, client: KestraClient, directory: Path, *, prune: bool, dry_run: bool, strict: bool, verbose: bool = False
) -> dict[str, Any]:
    from kestra_ops.files_sync import apply_files, plan_files, server_files
    from kestra_ops.flows_sync import apply_flows, plan_flows, server_sources, validate_on_server
    from kestra_ops.client import release
    from kestra_ops.validation import too_new_for, validate_directory

    reporter = session.reporter
    outputs = session.outputs
    kv_keys = set(outputs.kestra_kv) if outputs is not None and outputs.kestra_kv is not None else None
    report = validate_directory(directory, kv_keys, strict)
    for warning in report.warnings + (report.details if verbose else ()):
        reporter.warn(warning)
    if report.errors:
        raise ValidationFailed(list(report.errors))
    version = client.server.version
    too_new = too_new_for(report.flows, release(version), version)
    if too_new:
        raise ValidationFailed(too_new)

    flow_server = {namespace: server_sources(client, namespace) for namespace in report.namespaces}
    flow_changes = plan_flows(report.flows, flow_server, prune)
    file_namespaces = set(report.namespaces) if prune else {file.namespace for file in report.namespace_files}
    file_server = {namespace: server_files(client, namespace) for namespace in sorted(file_namespaces)}
    file_changes = plan_files(report.namespace_files, file_server, prune)

    flows = {(flow.namespace, flow.id): flow for flow in report.flows}
    to_write = [flows[(c.namespace, c.name)] for c in flow_changes if c.action in ("create", "update")]
    for warning in validate_on_server(client, to_write) if to_write else []:
        reporter.warn(warning)

    changes = file_changes + flow_changes
    for change in changes:
        if dry_run or change.writes:
            reporter.line(change.describe())
    if not dry_run:
        files = {(file.namespace, file.path): file for file in report.namespace_files}
        with reporter.progress(sum(c.writes for c in changes), "Seeding flows") as advance:
            apply_files(client, file_changes, files, advance)
            apply_flows(client, flow_changes, flows, advance)
    summary = {
        "flows": counts(flow_changes),
        "namespace_files": counts(file_changes),
        "changes": [
            {"kind": c.kind, "namespace": c.namespace, "name": c.name, "action": c.action, "file": c.file} for c in changes
        ],
        "warnings": list(report.warnings),
    }
    return summary


def seed_kv(session: Session, client: KestraClient, *, dry_run: bool) -> dict[str, Any]:
    from kestra_ops.kv_sync import apply_kv, plan_kv

    outputs = session.require_outputs("kestra_kv")
    namespace = _namespace(session)
    entries = outputs.kestra_kv or {}
    changes = plan_kv(client, namespace, entries)
    for change in changes:
        session.reporter.line(change.describe())
    if not dry_run:
        with session.reporter.progress(sum(c.action != "unchanged" for c in changes), "Seeding KV") as advance:
            apply_kv(client, namespace, entries, changes, advance)
    return {
        "namespace": namespace,
        "kv": counts(changes, ("create", "update", "unchanged")),
        "keys": [{"key": c.key, "type": c.type, "action": c.action} for c in changes],
    }


def seed_backfills(session: Session, client: KestraClient, *, dry_run: bool, trigger_timeout_s: float,
                   follow: tuple[float, float] | None = None) -> dict[str, Any]:
    """`follow` (timeout, poll interval in seconds): afterwards follow the backfills to their end; the summary's
    `backfill_problem` then says which executions did not succeed, or that time ran out."""
    from kestra_ops.backfills import seed_backfills as run

    outputs = session.require_outputs("kestra_backfills")
    namespace = _namespace(session)
    with session.reporter.progress(len(outputs.kestra_backfills), "Backfills") as advance:
        results = run(
            client, namespace, outputs.kestra_backfills, dry_run=dry_run, trigger_timeout_s=trigger_timeout_s, advance=advance
        )
    rows = []
    for state, action in results:
        if action == "create":
            session.reporter.line(f"create    backfill {state.spec.flow_id}/{state.spec.trigger_id} {state.window}")
        else:
            session.reporter.line(f"skip      backfill {state.spec.flow_id}/{state.spec.trigger_id} {state.window}: "
                                  f"already {state.state}" + (f" ({state.detail})" if state.detail else ""))
        rows.append({
            "flow_id": state.spec.flow_id,
            "trigger_id": state.spec.trigger_id,
            "window": state.window,
            "id": state.backfill_id,
            "state": state.state,
            "action": action,
        })
    tally = {"create": sum(r["action"] == "create" for r in rows), "skip": sum(r["action"] == "skip" for r in rows)}
    summary: dict[str, Any] = {"backfills": tally, "entries": rows}
    if follow is not None and not dry_run:
        followed = [(row, state.spec) for row, (state, _) in zip(rows, results) if state.state != "blocked"]
        summary["backfill_problem"] = _follow_backfills(session, client, namespace, followed, *follow)
    return summary


def _follow_backfills(session: Session, client: KestraClient, namespace: str, followed: list, timeout_s: float,
                      interval_s: float) -> str | None:
    from kestra_ops.backfill_progress import follow_backfills, outcome_problem

    with session.reporter.follow("Backfills") as show:
        progress, ended = follow_backfills(client, namespace, [spec for _, spec in followed], timeout_s=timeout_s,
                                           interval_s=interval_s, show=show)
    for (row, _), item in zip(followed, progress):
        row["executions"] = item.document()
        session.reporter.line(f"backfill  {item.name} {row['window']}: {item.text}")
    return outcome_problem(progress, ended, timeout_s)


def _namespace(session: Session) -> str:
    return session.require_outputs("kestra_namespace").kestra_namespace


def _tally(tally: dict[str, int]) -> str:
    return ", ".join(f"{count} {action}" for action, count in tally.items())


def finish(reporter: Reporter, client: KestraClient, summary: dict[str, Any], dry_run: bool) -> None:
    """The one summary line (or JSON document) at the end of a seed command; then the error, if followed
    backfills did not all succeed."""
    summary.update(dry_run=dry_run, requests=client.stats.requests, writes=client.stats.writes, retries=client.stats.retries)
    parts = [
        f"{label}: {_tally(summary[key])}"
        for key, label in (("flows", "flows"), ("namespace_files", "namespace files"), ("kv", "kv"), ("backfills", "backfills"))
        if key in summary
    ]
    stats = client.stats
    note = " (dry run: nothing written)" if dry_run else ""
    parts.append(f"{stats.writes} writes, {stats.requests} requests, {stats.retries} retries{note}")
    reporter.line("; ".join(parts))
    reporter.document(summary)
    if summary.get("backfill_problem"):
        raise OpsError(summary["backfill_problem"])
