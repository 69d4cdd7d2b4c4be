"""Flows: diff a validated directory against the server, validate on the server, then write in bulk.

One export request per namespace reads every server source; one validate request covers the changed
flows; one bulk request per namespace writes them (`delete=false` sent explicitly: the server's default
deletes every flow missing from the body). A flow containing `---` goes by its own request, since the bulk
and validate endpoints split their body on that substring.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import yaml

from kestra_ops.client import KestraClient
from kestra_ops.errors import KestraHTTPError, ValidationFailed
from kestra_ops.flow_yaml import load_plain
from kestra_ops.changes import Change, plan_changes, read_zip, same_text
from kestra_ops.validation import LocalFlow

YAML = {"Content-Type": "application/x-yaml"}
TOP_LEVEL_NAME = re.compile(r"""^(id|namespace):[ \t]*(?:(?P<q>['"]?))([a-zA-Z0-9._-]+)(?P=q)[ \t]*(?:#.*)?$""", re.MULTILINE)


def server_sources(client: KestraClient, namespace: str) -> dict[str, str]:
    """flow id -> source for the flows of exactly this namespace (the export filter is a prefix)."""
    response = client.get("/flows/export/by-query", params={"namespace": namespace})
    sources: dict[str, str] = {}
    for content in read_zip(response.content, f"flows export of {namespace}").values():
        try:
            source = content.decode("utf-8")
            flow_id, flow_namespace = _identity(source)
        except (UnicodeDecodeError, yaml.YAMLError):  # not a flow we could have written: not ours to compare
            continue
        if flow_namespace == namespace and flow_id is not None:
            sources[flow_id] = source
    return sources


def _identity(source: str) -> tuple[str | None, str | None]:
    """A flow's id and namespace: read off its top-level lines (ids and namespaces have no characters that
    need quoting), parsing the whole YAML only for a source written some other way."""
    found = [(match.group(1), match.group(3)) for match in TOP_LEVEL_NAME.finditer(source)]
    if sorted(key for key, _ in found) == ["id", "namespace"]:
        names = dict(found)
        return names["id"], names["namespace"]
    flow = load_plain(source)
    if not isinstance(flow, dict):
        return None, None
    return (flow.get("id") if isinstance(flow.get("id"), str) else None), flow.get("namespace")


def plan_flows(
    flows: Iterable[LocalFlow], server: dict[str, dict[str, str]], prune: bool
) -> list[Change]:
    """`server`: namespace -> flow id -> source, for every managed namespace."""
    local = ((flow.namespace, flow.id, flow.file, flow.source) for flow in flows)
    return plan_changes("flow", local, server, same_text, prune)


def validate_on_server(client: KestraClient, flows: list[LocalFlow]) -> list[str]:
    """Server-side validation of the flows about to be written; returns warnings, raises on errors."""
    together = [flow for flow in flows if not flow.needs_own_request]
    batches = ([together] if together else []) + [[flow] for flow in flows if flow.needs_own_request]
    problems: list[str] = []
    warnings: list[str] = []
    for batch in batches:
        results = client.query("POST", "/flows/validate", content=_multi_document(batch), headers=YAML)
        for result in results.json():
            index = result.get("index", 0)
            file = batch[index].file if 0 <= index < len(batch) else f"flow #{index}"
            if result.get("constraints"):
                problems.append(f"{file}: rejected by Kestra: {' '.join(str(result['constraints']).split())}")
            for warning in result.get("warnings") or []:
                warnings.append(f"{file}: Kestra warns: {' '.join(str(warning).split())}")
    if problems:
        raise ValidationFailed(problems)
    return warnings


def apply_flows(
    client: KestraClient, changes: list[Change], flows: dict[tuple[str, str], LocalFlow], advance: Callable[[], None]
) -> None:
    by_namespace: dict[str, list[LocalFlow]] = {}
    for change in changes:
        if change.action in ("create", "update"):
            flow = flows[(change.namespace, change.name)]
            if flow.needs_own_request:
                _write_one(client, flow, change.action)
                advance()
            else:
                by_namespace.setdefault(change.namespace, []).append(flow)
    for namespace, batch in sorted(by_namespace.items()):
        # Re-sending identical sources creates no revision, so a bulk update whose answer was lost is safe to repeat.
        client.write(
            "POST",
            f"/flows/{namespace}",
            params={"delete": "false", "override": "false"},
            content=_multi_document(batch),
            headers=YAML,
            retry_safe=True,
        )
        for _ in batch:
            advance()
    for change in changes:
        if change.action == "delete":
            try:
                client.write("DELETE", f"/flows/{change.namespace}/{change.name}", retry_safe=True)
            except KestraHTTPError as error:
                if error.status != 404:  # gone already: what we wanted
                    raise
            advance()


def _multi_document(flows: list[LocalFlow]) -> bytes:
    """The body the validate and bulk endpoints take: the sources as one YAML stream."""
    return ("\n---\n".join(flow.source.strip("\n") for flow in flows) + "\n").encode()


def _write_one(client: KestraClient, flow: LocalFlow, action: str) -> None:
    body = flow.source.encode()
    if action == "update":
        client.write("PUT", f"/flows/{flow.namespace}/{flow.id}", content=body, headers=YAML, retry_safe=True)
        return
    try:
        client.write("POST", "/flows", content=body, headers=YAML, retry_safe=True)
    except KestraHTTPError as error:
        # A create retried after a lost answer meets the flow it created: compare, update if it differs.
        if error.status != 422 or "exist" not in error.message.lower():
            raise
        current = client.get_json(f"/flows/{flow.namespace}/{flow.id}", params={"source": "true"})
        if not same_text(flow.source, current.get("source") or ""):
            client.write("PUT", f"/flows/{flow.namespace}/{flow.id}", content=body, headers=YAML, retry_safe=True)
