"""The files pgAdmin gets: the pgpass file checked by libpq itself (psql -w against a real
PostgreSQL), servers.json by pgAdmin's import format rules."""

from __future__ import annotations

import json
import os
import subprocess

import psycopg
import pytest
from psycopg import sql

from infra.services import (
    PGADMIN_PASSFILE,
    PGADMIN_PASSFILE_IN_STORAGE,
    PGADMIN_SERVERS_FILE,
    POSTGRES_PORT,
    TAXI_DATABASE,
    TAXI_POSTGRES,
    TAXI_USER,
    build_service_set,
    pgpass_line,
)
from infra.settings import parse_settings
from tests.infra.raw_config import raw_config

TRICKY_PASSWORD = "pa:ss\\wo:rd\\"
GENERATED_PASSWORD = "Gen3ratedPassw0rd"


def pgadmin_files() -> dict[str, str]:
    """pgAdmin's files, the secret ones built with GENERATED_PASSWORD for the taxi database."""
    pgadmin = build_service_set(parse_settings(raw_config())).service("pgadmin")
    values = {"TAXI_DB_PASSWORD": GENERATED_PASSWORD, "PGADMIN_PASSWORD": "Pgadm1nGenerated"}
    return ({file.path: file.content for file in pgadmin.files}
            | {file.path: file.content(values) for file in pgadmin.secret_files})


def psql_with_passfile(postgres, passfile, role: str, host: str = "127.0.0.1",
                       database: str = "postgres") -> subprocess.CompletedProcess:
    """Connect with no password but the pass file; `host` is what libpq matches the file against."""
    conninfo = (f"host={host} hostaddr=127.0.0.1 port={postgres.port} dbname={database} user={role} "
                "connect_timeout=10")
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env["PGPASSFILE"] = str(passfile)
    return subprocess.run([str(postgres.psql), "-w", "-X", "-A", "-t", "-d", conninfo,
                           "-c", "select current_user"],
                          env=env, capture_output=True, text=True, timeout=30)


@pytest.fixture(scope="module")
def tricky_role(postgres):
    role = "pgpass_check"
    with psycopg.connect(postgres.dsn, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
        connection.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
            sql.Identifier(role), sql.Literal(TRICKY_PASSWORD)))
    yield role
    with psycopg.connect(postgres.dsn, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


@pytest.fixture(scope="module")
def taxi_role(postgres):
    """The taxi server's owner role and database as the postgres image creates them (POSTGRES_USER,
    POSTGRES_DB), with the password the generated pass file will carry."""
    with psycopg.connect(postgres.dsn, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(TAXI_DATABASE)))
        connection.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(TAXI_USER)))
        connection.execute(sql.SQL("CREATE ROLE {} LOGIN SUPERUSER PASSWORD {}").format(
            sql.Identifier(TAXI_USER), sql.Literal(GENERATED_PASSWORD)))
        connection.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
            sql.Identifier(TAXI_DATABASE), sql.Identifier(TAXI_USER)))
    yield TAXI_USER
    with psycopg.connect(postgres.dsn, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(TAXI_DATABASE)))
        connection.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(TAXI_USER)))


@pytest.mark.postgres
@pytest.mark.parametrize("database", [TAXI_DATABASE, "postgres"])
def test_generated_pgpass_file_logs_in_to_every_database_of_the_server(postgres, taxi_role, tmp_path,
                                                                     database):
    """pgAdmin hands the server's passfile to every connection it opens on that server (the tree's
    `postgres` database too: pgadmin4 web/pgadmin/utils/driver/psycopg3/server_manager.py), so the
    file must match any database."""
    passfile = tmp_path / "pgpass"
    generated = pgadmin_files()[PGADMIN_PASSFILE].replace(f":{POSTGRES_PORT}:", f":{postgres.port}:", 1)
    passfile.write_text(generated)
    passfile.chmod(0o600)
    result = psql_with_passfile(postgres, passfile, taxi_role, host=TAXI_POSTGRES, database=database)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == taxi_role


@pytest.mark.postgres
def test_pgpass_line_escapes_colon_and_backslash_so_libpq_logs_in(postgres, tricky_role, tmp_path):
    passfile = tmp_path / "pgpass"
    passfile.write_text(pgpass_line(TAXI_POSTGRES, postgres.port, "postgres", tricky_role,
                                    TRICKY_PASSWORD))
    passfile.chmod(0o600)
    result = psql_with_passfile(postgres, passfile, tricky_role, host=TAXI_POSTGRES)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == tricky_role


@pytest.mark.postgres
def test_unescaped_pgpass_line_is_rejected_by_libpq(postgres, tricky_role, tmp_path):
    """The control: without escaping, the same password does not log in."""
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"{TAXI_POSTGRES}:{postgres.port}:postgres:{tricky_role}:{TRICKY_PASSWORD}\n")
    passfile.chmod(0o600)
    result = psql_with_passfile(postgres, passfile, tricky_role, host=TAXI_POSTGRES)
    assert result.returncode != 0
    assert TRICKY_PASSWORD not in result.stderr


def test_generated_pgpass_file_is_the_taxi_line_for_any_database_with_the_password_filled_in():
    filled = pgadmin_files()[PGADMIN_PASSFILE]
    assert filled == pgpass_line(TAXI_POSTGRES, POSTGRES_PORT, "*", TAXI_USER, GENERATED_PASSWORD)
    assert filled.count("\n") == 1 and filled.endswith("\n")


def test_servers_json_follows_pgadmins_import_format():
    document = json.loads(pgadmin_files()[PGADMIN_SERVERS_FILE])
    assert set(document) == {"Servers"}
    assert document["Servers"], "at least one server"
    for key, server in document["Servers"].items():
        assert key.isdigit() and int(key) > 0
        for required in ("Name", "Group", "Port", "Username", "MaintenanceDB"):
            assert server.get(required) not in (None, ""), required
        assert isinstance(server["Port"], int) and not isinstance(server["Port"], bool)
        assert any(server.get(field) for field in ("Host", "HostAddr", "Service"))
        assert not {"Password", "PassFile", "SSLMode"} & set(server), "ignored or not importable"
        parameters = server["ConnectionParameters"]
        assert parameters["sslmode"] in {"disable", "allow", "prefer", "require", "verify-ca",
                                         "verify-full"}
        # Server mode resolves paths relative to the user's storage folder.
        assert parameters["passfile"] == PGADMIN_PASSFILE_IN_STORAGE


def test_servers_json_points_at_the_taxi_database_by_service_name():
    [server] = json.loads(pgadmin_files()[PGADMIN_SERVERS_FILE])["Servers"].values()
    assert (server["Host"], server["Port"], server["MaintenanceDB"], server["Username"]) == (
        TAXI_POSTGRES, POSTGRES_PORT, TAXI_DATABASE, TAXI_USER)
