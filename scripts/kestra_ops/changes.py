"""Changes shared by flows and namespace files: what to create, update, delete or leave alone."""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from kestra_ops.errors import KestraError

if TYPE_CHECKING:
    from kestra_ops.kv_sync import KvChange

ACTIONS = ("create", "update", "delete", "unchanged")
Content = TypeVar("Content")


@dataclass(frozen=True)
class Change:
    kind: str  # "flow" or "file"
    namespace: str
    name: str  # flow id, or namespace file path
    action: str  # one of ACTIONS
    file: str | None = None  # the local file, when there is one

    @property
    def writes(self) -> bool:
        return self.action != "unchanged"

    def describe(self) -> str:
        where = f" ({self.file})" if self.file and self.action != "unchanged" else ""
        return f"{self.action:9} {self.kind} {self.namespace}/{self.name.lstrip('/')}{where}"


def plan_changes(
    kind: str,
    local: Iterable[tuple[str, str, Path, Content]],
    server: dict[str, dict[str, Content]],
    same: Callable[[Content, Content], bool],
    prune: bool,
) -> list[Change]:
    """`local`: (namespace, name, file, content) per local item; `server`: namespace -> name -> content for
    every managed namespace. With `prune`, a server item no local one names is deleted."""
    changes: list[Change] = []
    local_names: dict[str, set[str]] = {namespace: set() for namespace in server}
    for namespace, name, file, content in local:
        local_names.setdefault(namespace, set()).add(name)
        remote = server.get(namespace, {}).get(name)
        action = "create" if remote is None else "unchanged" if same(content, remote) else "update"
        changes.append(Change(kind, namespace, name, action, str(file)))
    if prune:
        for namespace, contents in sorted(server.items()):
            for name in sorted(set(contents) - local_names[namespace]):
                changes.append(Change(kind, namespace, name, "delete"))
    return changes


def counts(changes: Iterable[Change | KvChange], actions: tuple[str, ...] = ACTIONS) -> dict[str, int]:
    """How many changes take each action, in the order of `actions`."""
    tally = Counter(change.action for change in changes)
    return {action: tally.get(action, 0) for action in actions}


# Kestra manages a flow's revision: 0.20 serves a source without its first `revision:` line
# (FlowWithSource.cleanupSource, v0.20.7), and equal sources but for it are the same flow to Kestra too.
REVISION_LINE = re.compile(r"(?m)^revision: \d+\n?")


def same_text(local: str, remote: str) -> bool:
    """Sources equal up to trailing whitespace, blank lines at either end and the first `revision:` line
    (what a round trip changes)."""
    return _normalized(local) == _normalized(remote)


def _normalized(text: str) -> list[str]:
    text = REVISION_LINE.sub("", text, count=1)
    return [line.rstrip() for line in text.strip("\r\n").splitlines()]


def read_zip(content: bytes, what: str) -> dict[str, bytes]:
    """File entries of a ZIP answer (an empty body is an empty archive)."""
    if not content:
        return {}
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}
    except zipfile.BadZipFile:
        raise KestraError(f"{what}: the server's answer is not a ZIP archive") from None
