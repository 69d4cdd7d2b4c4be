"""What is deployed: flows (revision, in sync with the repo or not), KV keys (type, never values),
backfills (window, state, executions by state)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kestra_ops.backfill_progress import backfill_progress, scheduled_dates
from kestra_ops.backfills import BackfillState, backfill_id, backfill_state, find_trigger
from kestra_ops.client import KestraClient
from kestra_ops.flows_sync import server_sources
from kestra_ops.kv_sync import read_entry, same_value
from kestra_ops.outputs import StackOutputs
from kestra_ops.changes import same_text
from kestra_ops.validation import validate_directory


def flow_revisions(client: KestraClient, namespace: str) -> dict[str, int]:
    revisions: dict[str, int] = {}
    page = 1
    while True:
        answer = client.get_json("/flows/search", params={"namespace": namespace, "page": page, "size": 100})
        results = answer.get("results") or []
        for flow in results:
            if flow.get("namespace") == namespace:
                revisions[flow["id"]] = flow.get("revision")
        if not results or page * 100 >= int(answer.get("total", 0)):
            return revisions
        page += 1


def flow_rows(client: KestraClient, directory: Path, extra_namespace: str | None) -> list[dict[str, Any]]:
    local = {}
    namespaces: set[str] = {extra_namespace} if extra_namespace else set()
    if directory.is_dir():
        report = validate_directory(directory)
        namespaces.update(report.namespaces)
        local = {(flow.namespace, flow.id): flow for flow in report.flows}
    rows = []
    for namespace in sorted(namespaces):
        sources = server_sources(client, namespace)
        revisions = flow_revisions(client, namespace) if sources else {}
        ids = sorted(set(sources) | {flow_id for ns, flow_id in local if ns == namespace})
        for flow_id in ids:
            flow = local.get((namespace, flow_id))
            if flow_id not in sources:
                state = "not deployed"
            elif flow is None:
                state = "not in repo"
            else:
                state = "in sync" if same_text(flow.source, sources[flow_id]) else "differs"
            rows.append({"namespace": namespace, "id": flow_id, "revision": revisions.get(flow_id), "state": state})
    return rows


def kv_rows(client: KestraClient, outputs: StackOutputs | None) -> list[dict[str, Any]]:
    if outputs is None or outputs.kestra_namespace is None:
        return []
    namespace = outputs.kestra_namespace
    expected = outputs.kestra_kv or {}
    listed = client.get_json(f"/namespaces/{namespace}/kv")
    keys = sorted({entry["key"] for entry in listed} | set(expected))
    rows = []
    for key in keys:
        entry = read_entry(client, namespace, key)
        if entry is None:
            state = "missing"
        elif key not in expected:
            state = "not in outputs"
        elif same_value(entry, expected[key]):
            state = "in sync"
        else:
            state = "differs"
        rows.append({"namespace": namespace, "key": key, "type": entry.get("type") if entry else None, "state": state})
    return rows


def backfill_rows(client: KestraClient, outputs: StackOutputs | None) -> list[dict[str, Any]]:
    if outputs is None or outputs.kestra_namespace is None:
        return []
    namespace = outputs.kestra_namespace
    rows = []
    for spec in outputs.kestra_backfills:
        trigger = find_trigger(client, namespace, spec.flow_id, spec.trigger_id)
        if trigger is None:
            state = BackfillState(spec, backfill_id(namespace, spec), "missing", "trigger not on the server")
        else:
            state = backfill_state(client, namespace, spec, trigger)
        progress = None
        if state.state in ("running", "finished"):
            progress = backfill_progress(client, namespace, spec, scheduled_dates(client, namespace, spec), trigger)
        rows.append({
            "flow_id": spec.flow_id,
            "trigger_id": spec.trigger_id,
            "window": state.window,
            "state": state.state,
            "detail": state.detail,
            "progress": progress.text if progress else None,
            "executions": progress.document() if progress else None,
        })
    return rows


def table(rows: list[dict[str, Any]], columns: list[str]) -> list[str]:
    cells = [[("-" if row.get(c) in (None, "") else str(row.get(c))) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(line[i]) for line in cells]) for i, c in enumerate(columns)]
    render = lambda values: "  ".join(v.ljust(w) for v, w in zip(values, widths)).rstrip()  # noqa: E731
    return [render(columns)] + [render(line) for line in cells]
