"""Pytest fixtures for the Kestra emulator (registered in tests/conftest.py through `pytest_plugins`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.kestra_emulator.server import KestraEmulator


def assert_no_spec_violations(emulator: KestraEmulator) -> None:
    if emulator.spec_violations:
        listing = "\n  - ".join(emulator.spec_violations)
        pytest.fail(f"Kestra emulator saw traffic that breaks Kestra's API spec:\n  - {listing}", pytrace=False)


@pytest.fixture
def kestra_emulator() -> Iterator[KestraEmulator]:
    """A started Kestra 1.x emulator; the test fails at teardown if any request or response broke the spec."""
    with KestraEmulator() as emulator:
        yield emulator
    assert_no_spec_violations(emulator)
