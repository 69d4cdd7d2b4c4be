"""Clients for the emulator's own tests: plain httpx, as any Kestra client would talk to it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.kestra_emulator.server import KestraEmulator

USERNAME = "ops@example.com"
PASSWORD = "Emul4torPassw0rd"
YAML = {"Content-Type": "application/x-yaml"}


def flow_source(flow_id: str, namespace: str = "zoomcamp", *, extra: str = "") -> str:
    return (f"id: {flow_id}\nnamespace: {namespace}\ntasks:\n  - id: log\n"
            f"    type: io.kestra.plugin.core.log.Log\n    message: hello\n{extra}")


@pytest.fixture
def api(kestra_emulator: KestraEmulator) -> Iterator[httpx.Client]:
    """An authenticated client on the 1.x emulator, paths relative to /api/v1/main."""
    with httpx.Client(base_url=f"{kestra_emulator.url}/api/v1/main", auth=(USERNAME, PASSWORD), timeout=5) as client:
        yield client
