"""Clients for the emulator's own tests: plain httpx, as any Kestra client would talk to it."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import httpx
import pytest

from tests.kestra_emulator.server import KestraEmulator

USERNAME = "ops@example.com"
PASSWORD = "Emul4torPassw0rd"
YAML = {"Content-Type": "application/x-yaml"}
# httpx builds a TLS context per client (~25 ms, certificates loaded); the tests share one.
TLS = ssl.create_default_context()


def flow_source(flow_id: str, namespace: str = "zoomcamp", *, extra: str = "") -> str:
    return (f"id: {flow_id}\nnamespace: {namespace}\ntasks:\n  - id: log\n"
            f"    type: io.kestra.plugin.core.log.Log\n    message: hello\n{extra}")


@pytest.fixture
def api(kestra_emulator: KestraEmulator) -> Iterator[httpx.Client]:
    """An authenticated client on the 1.x emulator, paths relative to /api/v1/main."""
    with client_for(kestra_emulator, "/api/v1/main") as client:
        yield client


def client_for(emulator: KestraEmulator, prefix: str = "", auth: tuple[str, str] | None = (USERNAME, PASSWORD)) -> httpx.Client:
    return httpx.Client(base_url=f"{emulator.url}{prefix}", auth=auth, timeout=5, verify=TLS)
