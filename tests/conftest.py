"""Fixtures shared by every part of the suite. Part-specific fixtures live in tests/<part>/conftest.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.postgres_server import PostgresMisconfigured, PostgresServer, PostgresUnavailable, start_postgres

pytest_plugins = ["tests.kestra_emulator.fixtures"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = PROJECT_ROOT / "tests" / "data"


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session", autouse=True)
def no_ambient_docker_engine(tmp_path_factory):
    """Plans follow the Docker CLI's current context and DOCKER_HOST (infra/docker_engine.py): the suite
    sees neither of the machine it runs on, only what a test sets."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("DOCKER_HOST", "DOCKER_CONTEXT"):
            patch.delenv(name, raising=False)
        patch.setenv("DOCKER_CONFIG", str(tmp_path_factory.mktemp("docker-config")))
        yield


@pytest.fixture(scope="session")
def postgres() -> PostgresServer:
    """A real PostgreSQL for the whole session. Skips on a laptop without it; fails in CI."""
    try:
        server = start_postgres()
    except PostgresMisconfigured as error:
        pytest.fail(str(error), pytrace=False)
    except PostgresUnavailable as error:
        if running_in_ci():
            pytest.fail(f"PostgreSQL is required in CI: {error}")
        pytest.skip(f"PostgreSQL not available: {error}")
    yield server
    server.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that uses the real PostgreSQL carries the `postgres` marker, so `-m` can select it."""
    for item in items:
        if "postgres" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)
