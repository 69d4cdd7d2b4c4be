"""Namespace files: upload (multipart part `fileContent`, a .zip is unpacked), read, list, delete, export."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from tests.kestra_emulator.flow_rules import MODEL_0_21
from tests.kestra_emulator.flows import import_flow_source, namespace_flows, served_source
from tests.kestra_emulator.http_types import ApiError, ApiRequest, ApiResponse, illegal_argument
from tests.kestra_emulator.multipart import parse_multipart
from tests.kestra_emulator.routing import Route
from tests.kestra_emulator.state import EmulatorState, StoredFile, now

FLOWS_FOLDER = "/_flows"
# LocalStorage.allByPrefix (0.20.7) leaves names ending in `.metadata` out of every listing.
HIDDEN_SUFFIX = ".metadata"


def _path(state: EmulatorState, request: ApiRequest, *, required: bool = True) -> str:
    raw = request.arg("path")
    if raw is None or raw == "":
        if required:
            raise ApiError(400, "Required QueryValue [path] not specified")
        return "/"
    path = raw if raw.startswith("/") else "/" + raw
    # forbiddenPathsGuard: `/_flows.*` at v0.20.7, `/_flows(/.*)?$` in 1.x
    in_flows = path == FLOWS_FOLDER or path.startswith(FLOWS_FOLDER + "/")
    if in_flows or (state.version < MODEL_0_21 and path.startswith(FLOWS_FOLDER)):
        raise illegal_argument(f"Forbidden path: {path}")
    return path


def _put(state: EmulatorState, namespace: str, path: str, content: bytes) -> None:
    if path.startswith(FLOWS_FOLDER + "/"):
        if path.count("/") != 2:
            raise illegal_argument(f"Invalid flow file path: {path}")
        import_flow_source(state, namespace, content.decode("utf-8"))
        return
    moment = now()
    previous = state.files.get((namespace, path))
    state.files[(namespace, path)] = StoredFile(content, previous.created if previous else moment, moment)
    state.mark_applied()


def create_file(state: EmulatorState, request: ApiRequest) -> ApiResponse:
    namespace = request.path_params["namespace"]
    raw_path = request.arg("path")
    if raw_path is None:
        raise ApiError(400, "Required QueryValue [path] not specified")
    upload = next((part for part in parse_multipart(request) if part.name == "fileContent"), None)
    if upload is None:
        raise ApiError(400, "Required argument [CompletedFileUpload fileContent] not specified")
    if (upload.filename or "").lower().endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(upload.content)) as archive:
            for entry in archive.infolist():
                if not entry.is_dir():
                    _put(state, namespace, "/" + entry.filename, archive.read(entry))
    else:
        _put(state, namespace, raw_path if raw_path.startswith("/") else "/" + raw_path, upload.content)
    return ApiResponse.empty(200)


def _files_of(state: EmulatorState, namespace: str) -> dict[str, StoredFile]:
    return {path: stored for (file_namespace, path), stored in state.files.items() if file_namespace == namespace}


def get_file(state: EmulatorState, request: ApiRequest) -> ApiResponse:
    namespace, path = request.path_params["namespace"], _path(state, request)
    stored = state.files.get((namespace, path))
    if stored is None:
        raise ApiError(404, f"File not found: {path}")
    return ApiResponse(200, stored.content, "application/octet-stream", {"Cache-Control": "no-cache"})


def _attributes(name: str, kind: str, size: int, created: int, modified: int) -> dict[str, Any]:
    return {"fileName": name, "type": kind, "size": size, "creationTime": created, "lastModifiedTime": modified,
            "metadata": {}}


def list_directory(state: EmulatorState, request: ApiRequest) -> ApiResponse:
    namespace, directory = request.path_params["namespace"], _path(state, request, required=False).rstrip("/") + "/"
    files = _files_of(state, namespace)
    children: dict[str, dict[str, Any]] = {}
    for path, stored in sorted(files.items()):
        if not path.startswith(directory):
            continue
        name, _, rest = path[len(directory):].partition("/")
        created, modified = int(stored.created.timestamp() * 1000), int(stored.modified.timestamp() * 1000)
        if rest:
            children.setdefault(name, _attributes(name, "Directory", 0, created, modified))
        else:
            children[name] = _attributes(name, "File", len(stored.content), created, modified)
    if directory != "/" and not children:
        raise ApiError(404, f"Directory not found: {directory.rstrip('/')}")
    return ApiResponse.json(200, list(children.values()))


def delete_file(state: EmulatorState, request: ApiRequest) -> ApiResponse:
    namespace, path = request.path_params["namespace"], _path(state, request)
    doomed = [key for key in state.files
              if key[0] == namespace and (key[1] == path or key[1].startswith(path.rstrip("/") + "/"))]
    if not doomed:
        raise ApiError(404, f"File not found: {path}")
    for key in doomed:
        del state.files[key]
    state.mark_applied()
    return ApiResponse.empty(200)


def export_files(state: EmulatorState, request: ApiRequest) -> ApiResponse:
    """NamespaceFileController.export (0.20.7 and 1.1): every file, walked recursively, named without its
    leading slash, no directory entries; then one `_flows/<id>.yml` per flow of exactly this namespace.
    A namespace without files or storage gives an empty archive, not 404."""
    namespace = request.path_params["namespace"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, stored in sorted(_files_of(state, namespace).items()):
            if not path.endswith(HIDDEN_SUFFIX):
                archive.writestr(path[1:], stored.content)
        for flow in namespace_flows(state, namespace):
            archive.writestr(f"{FLOWS_FOLDER[1:]}/{flow.id}.yml", served_source(state, flow))
    return ApiResponse.binary(buffer.getvalue(), f"{namespace}_files.zip")


ROUTES = (
    Route("GET", "/api/v1/{tenant}/namespaces/{namespace}/files", get_file),
    Route("POST", "/api/v1/{tenant}/namespaces/{namespace}/files", create_file),
    Route("DELETE", "/api/v1/{tenant}/namespaces/{namespace}/files", delete_file),
    Route("GET", "/api/v1/{tenant}/namespaces/{namespace}/files/directory", list_directory),
    Route("GET", "/api/v1/{tenant}/namespaces/{namespace}/files/export", export_files),
)
