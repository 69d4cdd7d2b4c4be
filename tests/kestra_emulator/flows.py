"""Flows: create, update (revisions), get, delete, search, export, the bulk namespace update and validate."""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any

from tests.kestra_emulator.filters import FilterQuery, page_of
from tests.kestra_emulator.flow_rules import MODEL_0_21, ParsedFlow, parse_flow
from tests.kestra_emulator.http_types import ApiError, ApiRequest, ApiResponse, constraint_violation
from tests.kestra_emulator.routing import Route
from tests.kestra_emulator.state import EmulatorState, StoredFlow
from tests.kestra_emulator.triggers import drop_flow_triggers, sync_flow_triggers

# FlowController.validateFlows splits the trimmed body on this regex (lines of `---`)...
VALIDATE_SPLIT = re.compile(r"\n+---\n*?")
# ...while updateFlowsInNamespace splits on the bare substring, wherever it occurs.
BULK_SEPARATOR = "---"


# Kestra 0.20's FlowWithSource.getSource() drops the first `revision:` line of every source it serves
# (cleanupSource, v0.20.7); 1.x serves the source as stored.
REVISION_LINE = re.compile(r"(?m)^revision: \d+\n?")


def served_source(state: EmulatorState, flow: StoredFlow) -> str:
    return REVISION_LINE.sub("", flow.source, count=1) if state.version < MODEL_0_21 else flow.source


def namespace_flows(state: EmulatorState, namespace: str) -> list[StoredFlow]:
    """FlowRepository.findByNamespaceWithSource: the flows of exactly this namespace, not deleted."""
    return sorted((flow for flow in state.flows.values() if flow.namespace == namespace and not flow.deleted),
                  key=lambda flow: flow.id)


def _json_safe(document: Any) -> Any:
    """YAML gives dates and other non-JSON scalars; Kestra serialises them as strings."""
    return json.loads(json.dumps(document, default=str))


def _parse(state: EmulatorState, source: str) -> ParsedFlow:
    return parse_flow(source, version=state.version)


def _require_valid(parsed: ParsedFlow) -> None:
    if parsed.violations:
        path, message = parsed.violations[0]
        raise ApiError(422, f"Invalid entity: {parsed.message()}",
                       [{"path": path, "message": message} for path, message in parsed.violations])


def flow_document(state: EmulatorState, flow: StoredFlow, *, with_source: bool) -> dict[str, Any]:
    document = dict(flow.document)
    labels = document.get("labels")
    if isinstance(labels, list):
        document["labels"] = {str(item.get("key")): str(item.get("value")) for item in labels if isinstance(item, dict)}
    document.update(id=flow.id, namespace=flow.namespace, revision=flow.revision, deleted=flow.deleted,
                    disabled=bool(document.get("disabled", False)))
    if with_source:
        document["source"] = served_source(state, flow)
    return document


def _store(state: EmulatorState, parsed: ParsedFlow) -> StoredFlow:
    """Create, or update with a new revision unless the source is unchanged (Kestra keeps the revision)."""
    key = (parsed.namespace, parsed.id)
    flow = state.flows.get(key)
    if flow is not None and not flow.deleted and flow.source == parsed.source:
        return flow
    if flow is None:
        flow = state.flows[key] = StoredFlow(parsed.namespace, parsed.id)
    flow.sources.append(parsed.source)
    flow.document = _json_safe(parsed.document)
    flow.deleted = False
    sync_flow_triggers(state, flow)
    state.mark_applied()
    return flow


def _delete(state: EmulatorState, flow: StoredFlow) -> None:
    flow.deleted = True
    drop_flow_triggers(state, flow.namespace, flow.id)
    state.mark_applied()


def import_flow_source(state: EmulatorState, namespace: str, source: str) -> None:
    """A `/_flows/x.yml` namespace file: created or updated in that namespace (FlowService.importFlow)."""
    parsed = _parse(state, re.sub(r"(?m)^namespace: .*$", f"namespace: {namespace}", source, count=1))
    _require_valid(parsed)
    _store(state, parsed)


def create_flow(state: EmulatorState, request: ApiRequest) -> ApiResponse:
    parsed = _parse(state, request.text())
    _require_valid(parsed)
    if state.live_flow(parsed.namespace, parsed.id) is not None:
        raise constraint_violation("flow.id", "Flow id already exists")
    return ApiResponse.json(200, flow_document(state, _store(state, parsed), with_source=True))


def update_flow(state: EmulatorState, request: ApiRequest) -> ApiResponse:
    namespace, flow_id = request.path_params["namespace"], request.path_params["id"]
    if state.live_flow(namespace, flow_id) is None:
        raise ApiError(404, empty_body=True)
    parsed = _parse(state, request.text())
    _require_valid(parsed)
    if (parsed.namespace, parsed.id) != (namespace, flow_id):
        raise constraint_violation("flow.id", "Illegal flow id update")
    return ApiResponse.json(200, flow_document(state, _store(state, parsed), with_source=True))


def get_flow(state: EmulatorState, request: ApiRequest) -> ApiResponse:
    flow = state.flows.get((request.path_params["namespace"], request.path_params["id"]))
    if flow is None or (flow.deleted and not request.flag("allowDeleted", False)):
        raise ApiError(404, "Not Found")
    document = flow_document(state, flow, with_source=request.flag("source", False))
    revision = request.arg("revision")
    if revision is not None:
        number = int(revision)
        if not 1 <= number <= flow.revision:
            raise ApiError(404, "Not Found")
        historical = _parse(state, flow.sources[number - 1])
        document.update(_json_safe(historical.document), revision=number)
        if "source" in document:
            document["source"] = flow.sources[number - 1]
    return ApiResponse.json(200, document)


def delete_flow(state: EmulatorState, request: ApiRequest) -> ApiResponse:
    flow = state.live_flow(request.path_params["namespace"], request.path_params["id"])
    if flow is None:
        raise ApiError(404, empty_body=True)
    _delete(state, flow)
    return ApiResponse.empty(204)


def _matching_flows(state: EmulatorState, request: ApiRequest) -> list[StoredFlow]:
    query = FilterQuery.from_request(request, state, legacy=("namespace", "q", "labels"))
    flows = [flow for flow in state.flows.values() if not flow.deleted]
    selected = [flow for flow in flows
                if query.matches(namespace=flow.namespace, flowId=flow.id, q=flow.id,
                                 labels=flow_document(state, flow, with_source=False).get("labels") or {})]
    return sorted(selected, key=lambda flow: (flow.namespace, flow.id))


def search_flows(state: EmulatorState, request: ApiRequest) -> ApiResponse:
    documents = [flow_document(state, flow, with_source=False) for flow in _matching_flows(state, request)]
    return ApiResponse.json(200, page_of(documents, request))


def list_flows_by_namespace(state: EmulatorState, request: ApiRequest) -> ApiResponse:
    flows = namespace_flows(state, request.path_params["namespace"])
    return ApiResponse.json(200, [flow_document(state, flow, with_source=False) for flow in flows])


def export_flows(state: EmulatorState, request: ApiRequest) -> ApiResponse:
    """The last revision of each live flow the query selects, as `<ns>-<id>.yml` (1.x: HasSource.asZipFile)
    or `<ns>.<id>.yml` (0.20.7: FlowController.zipFlows)."""
    separator = "-" if state.version >= MODEL_0_21 else "."
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for flow in _matching_flows(state, request):
            archive.writestr(f"{flow.namespace}{separator}{flow.id}.yml", served_source(state, flow))
    return ApiResponse.binary(buffer.getvalue(), "flows.zip")


def update_namespace(state: EmulatorState, request: ApiRequest) -> ApiResponse:
    namespace = request.path_params["namespace"]
    delete_missing = request.flag("delete", True)
    sources = request.text().split(BULK_SEPARATOR) if request.body else []
    parsed_flows = [_parse(state, source.strip()) for source in sources]
    for parsed in parsed_flows:
        _require_valid(parsed)
    wrong = [parsed for parsed in parsed_flows if parsed.namespace != namespace]
    if wrong:
        tenant = f"{state.tenant_id}_" if state.tenant_id else ""
        raise ApiError(422, "Invalid entity: flow.namespace: flow namespace is invalid",
                       [{"path": "flow.namespace", "message": f"{tenant}{parsed.namespace}_{parsed.id} - flow namespace is invalid"}
                        for parsed in wrong])
    ids = [parsed.id for parsed in parsed_flows]
    if len(set(ids)) < len(ids):
        raise constraint_violation("flow.id", "Duplicate flow id")
    deleted = []
    if delete_missing:
        for flow in sorted(state.flows.values(), key=lambda flow: flow.id):
            if flow.namespace == namespace and not flow.deleted and flow.id not in ids:
                # Kestra answers with the flow as it was read before the delete.
                deleted.append(flow_document(state, flow, with_source=True))
                _delete(state, flow)
    updated = [flow_document(state, _store(state, parsed), with_source=True) for parsed in parsed_flows]
    return ApiResponse.json(200, deleted + updated)


def validate_flows(state: EmulatorState, request: ApiRequest) -> ApiResponse:
    content = request.text().strip()
    results = []
    for index, source in enumerate(VALIDATE_SPLIT.split(content)):
        parsed = _parse(state, source)
        result: dict[str, Any] = {"index": index, "outdated": False, "deprecationPaths": [], "warnings": [], "infos": []}
        if parsed.document.get("id") is not None:
            result["flow"] = str(parsed.document["id"])
        if parsed.document.get("namespace") is not None:
            result["namespace"] = str(parsed.document["namespace"])
        if parsed.violations:
            result["constraints"] = parsed.message()
        results.append(result)
    return ApiResponse.json(200, results)


ROUTES = (
    Route("POST", "/api/v1/{tenant}/flows", create_flow),
    Route("POST", "/api/v1/{tenant}/flows/validate", validate_flows),
    Route("GET", "/api/v1/{tenant}/flows/search", search_flows),
    Route("GET", "/api/v1/{tenant}/flows/export/by-query", export_flows),
    Route("GET", "/api/v1/{tenant}/flows/{namespace}", list_flows_by_namespace),
    Route("POST", "/api/v1/{tenant}/flows/{namespace}", update_namespace),
    Route("GET", "/api/v1/{tenant}/flows/{namespace}/{id}", get_flow),
    Route("PUT", "/api/v1/{tenant}/flows/{namespace}/{id}", update_flow),
    Route("DELETE", "/api/v1/{tenant}/flows/{namespace}/{id}", delete_flow),
)
