"""Fixtures for the flow tests: a database of their own on the session's PostgreSQL,
and helpers that run a Postgres flow on local CSV files."""

from __future__ import annotations

import itertools
import re
import secrets
from pathlib import Path
from typing import Callable

import psycopg
import pytest
from psycopg import sql

from tests.conftest import TEST_DATA
from tests.flows.flow_runner import FlowRun, load_flow
from tests.postgres_server import PostgresServer

TAXI_DATA = TEST_DATA / "taxi"
GREEN_SAMPLE = TAXI_DATA / "green_tripdata_2020-10_first300.csv"
YELLOW_SAMPLE = TAXI_DATA / "yellow_tripdata_sample_rides.csv"
REAL_GREEN_MONTH = TAXI_DATA / "green_tripdata_2020-10.csv.gz"
DEFAULT_BASE_URL = "https://github.com/DataTalksClub/nyc-tlc-data/releases/download"
FLOWS_DATABASE = "flows_tests"
# the KV entries the GCP flows read (ops seed-kv writes them from the stack outputs)
GCP_KV = {"GCP_PROJECT_ID": "demo", "GCP_DATASET": "zoomcamp", "GCP_BUCKET_NAME": "bucket", "GCP_LOCATION": "EU"}

_execution_ids = itertools.count(1)


@pytest.fixture(scope="session")
def flows_role(postgres: PostgresServer) -> dict:
    """user and password of a login role that owns the flow tests' databases and is no superuser, as the
    stack's taxi user on Cloud SQL. Its SCRAM verifier takes one iteration instead of 4096 (scram_iterations,
    PostgreSQL 16+; the verifier tells client and server how many): these tests open ~300 connections, and
    computing 4096 on both sides cost each ~10 ms on a loaded machine. Authentication itself stays SCRAM."""
    role = {"user": "flows_tester", "password": secrets.token_urlsafe(18)}
    with psycopg.connect(**postgres.conninfo(), autocommit=True) as connection:
        if connection.info.server_version >= 160000:
            connection.execute("SET scram_iterations = 1")
        connection.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
            sql.Identifier(role["user"]), sql.Literal(role["password"])))
    return role


@pytest.fixture(scope="session")
def taxi_db(postgres: PostgresServer, flows_role: dict) -> dict:
    """conninfo of the flow tests' database, owned by flows_role: one for the session (each CREATE DATABASE
    cost up to a second on a loaded machine); tests that count from zero take clean_db."""
    admin = postgres.conninfo()
    with psycopg.connect(**admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
            sql.Identifier(FLOWS_DATABASE), sql.Identifier(flows_role["user"])))
    return {**postgres.conninfo(FLOWS_DATABASE), **flows_role}


def drop_flow_tables(conninfo: dict) -> None:
    """Drops the tables the load flows create (a month's partitions go with their table)."""
    with psycopg.connect(**conninfo) as connection:
        for table in ("green_tripdata", "yellow_tripdata", "taxi_loads"):
            connection.execute(f"DROP TABLE IF EXISTS public.{table}")


@pytest.fixture
def clean_db(taxi_db: dict) -> dict:
    """The flow tests' database with the flows' tables dropped, for tests that count from zero."""
    drop_flow_tables(taxi_db)
    return taxi_db


def files_by_url(files: dict[str, Path]) -> Callable[[str], Path]:
    """A download stand-in that serves exactly the given URLs and fails on any other."""

    def fetch(url: str) -> Path:
        if url not in files:
            raise AssertionError(f"the flow downloaded an unexpected URL: {url}")
        return files[url]

    return fetch


def month_url(taxi: str, year: str, month: str, base: str = DEFAULT_BASE_URL) -> str:
    return f"{base}/{taxi}/{taxi}_tripdata_{year}-{month}.csv.gz"


def run_month(conninfo: dict, taxi: str, year: str, month: str, csv: Path, *, reload: bool = False) -> FlowRun:
    """Run 02_postgres_taxi for one month whose download is `csv`."""
    run = FlowRun(
        flow=load_flow("02_postgres_taxi"),
        inputs={"taxi": taxi, "year": year, "month": month, "reload": reload},
        execution_id=f"TestExec{next(_execution_ids)}Ab",
        conninfo=conninfo,
        fetch=files_by_url({month_url(taxi, year, month): csv}),
    )
    run.run()
    return run


def scalar(conninfo: dict, sql: str):
    with psycopg.connect(**conninfo) as connection:
        return connection.execute(sql).fetchone()[0]
