"""Namespace files: DIR/<namespace>/files/<path> -> namespace file /<path>, diffed against one export per
namespace and uploaded one multipart request (`fileContent`) per new or changed file."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable

from kestra_ops.client import KestraClient
from kestra_ops.errors import KestraHTTPError
from kestra_ops.changes import Change, plan_changes, read_zip
from kestra_ops.validation import LocalNamespaceFile

# Kestra's files export appends one `_flows/<id>.yml` per flow of the namespace (NamespaceFileController.export,
# 0.20.7 and 1.1): those are the namespace's flows, not files, and the server refuses to delete under /_flows.
FLOWS_FOLDER = "_flows/"


def server_files(client: KestraClient, namespace: str) -> dict[str, bytes]:
    """path (/dir/name) -> content of every namespace file (none when the namespace has no storage yet)."""
    response = client.get_or_none(f"/namespaces/{namespace}/files/export")
    if response is None:
        return {}
    archive = read_zip(response.content, f"namespace files export of {namespace}")
    names = {name.lstrip("/"): content for name, content in archive.items()}
    return {"/" + name: content for name, content in names.items() if not name.startswith(FLOWS_FOLDER)}


def plan_files(files: Iterable[LocalNamespaceFile], server: dict[str, dict[str, bytes]], prune: bool) -> list[Change]:
    local = ((file.namespace, file.path, file.file, file.content) for file in files)
    return plan_changes("file", local, server, operator.eq, prune)


def apply_files(
    client: KestraClient,
    changes: list[Change],
    files: dict[tuple[str, str], LocalNamespaceFile],
    advance: Callable[[], None],
) -> None:
    for change in changes:
        if change.action in ("create", "update"):
            upload(client, files[(change.namespace, change.name)])
        elif change.action == "delete":
            try:
                client.write("DELETE", f"/namespaces/{change.namespace}/files", params={"path": change.name}, retry_safe=True)
            except KestraHTTPError as error:
                if error.status != 404:
                    raise
        if change.writes:
            advance()


def upload(client: KestraClient, file: LocalNamespaceFile) -> None:
    def applied() -> bool:
        current = client.get_or_none(f"/namespaces/{file.namespace}/files", params={"path": file.path})
        return current is not None and current.content == file.content

    name = file.path.rsplit("/", 1)[-1]
    client.write(
        "POST",
        f"/namespaces/{file.namespace}/files",
        params={"path": file.path},
        files={"fileContent": (name, file.content, "application/octet-stream")},
        applied=applied,
    )
