"""The emulated server's data. Handlers run one at a time under `lock`, like a single Kestra repository."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def new_id() -> str:
    return uuid.uuid4().hex[:22]


@dataclass
class StoredFlow:
    namespace: str
    id: str
    sources: list[str] = field(default_factory=list)
    document: dict[str, Any] = field(default_factory=dict)
    deleted: bool = False

    @property
    def revision(self) -> int:
        return len(self.sources)

    @property
    def source(self) -> str:
        return self.sources[-1]


@dataclass
class KvEntry:
    type: str
    value: Any
    version: int
    created: datetime
    updated: datetime
    expires: datetime | None
    description: str | None = None

    def expired(self) -> bool:
        return self.expires is not None and self.expires <= now()


@dataclass
class StoredFile:
    content: bytes
    created: datetime
    modified: datetime


@dataclass
class EmulatorState:
    version: tuple[int, int, int]
    lock: threading.RLock = field(default_factory=threading.RLock)
    flows: dict[tuple[str, str], StoredFlow] = field(default_factory=dict)
    kv: dict[tuple[str, str], KvEntry] = field(default_factory=dict)
    files: dict[tuple[str, str], StoredFile] = field(default_factory=dict)
    # (namespace, flowId, triggerId) -> the trigger context as Kestra serialises it
    triggers: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    executions: list[dict[str, Any]] = field(default_factory=list)
    # How executions run (tests/kestra_emulator/runs.py): their plans, the LogEntry documents they wrote,
    # and per flow id the Outcome (or a function of the execution giving it) a test asked for.
    run_plans: dict[str, Any] = field(default_factory=dict)
    logs: list[dict[str, Any]] = field(default_factory=list)
    outcomes: dict[str, Any] = field(default_factory=dict)
    execution_mode: str = "per-request"
    write_count: int = 0
    # Set by a handler that changed state during the current request (read and reset by the server).
    applied: bool = False
    backfill_mode: str = "sync"

    @property
    def tenanted(self) -> bool:
        return self.version >= (0, 23, 0)

    @property
    def tenant_id(self) -> str | None:
        return "main" if self.tenanted else None

    def mark_applied(self) -> None:
        if not self.applied:
            self.applied = True
            self.write_count += 1

    def live_flow(self, namespace: str, flow_id: str) -> StoredFlow | None:
        flow = self.flows.get((namespace, flow_id))
        return flow if flow is not None and not flow.deleted else None
