"""A Kestra emulator for tests: a real HTTP server whose traffic is checked against Kestra's OpenAPI spec."""

from tests.kestra_emulator.http_types import RecordedRequest
from tests.kestra_emulator.server import KestraEmulator

__all__ = ["KestraEmulator", "RecordedRequest"]
