"""The whole real green month 2020-10 (95,120 rows) through 02_postgres_taxi on a real PostgreSQL."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from tests.flows.conftest import REAL_GREEN_MONTH, drop_flow_tables, run_month, scalar

pytestmark = pytest.mark.postgres

REAL_ROWS = 95_120
APP_BASED_ROWS = 42_510  # rows with empty VendorID, RatecodeID, store_and_fwd_flag, passenger_count, ...


@pytest.fixture(scope="module")
def loaded_month(taxi_db: dict, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    csv = tmp_path_factory.mktemp("real") / "green_tripdata_2020-10.csv"
    with gzip.open(REAL_GREEN_MONTH, "rb") as source, csv.open("wb") as target:
        shutil.copyfileobj(source, target)
    drop_flow_tables(taxi_db)
    run_month(taxi_db, "green", "2020", "10", csv)
    return taxi_db, csv


def test_every_row_of_the_real_month_is_loaded_once(loaded_month):
    conninfo, _ = loaded_month
    assert scalar(conninfo, "SELECT count(*) FROM green_tripdata") == REAL_ROWS
    # the row id tells every real trip apart: no two rows of the month collide
    assert scalar(conninfo, "SELECT count(DISTINCT unique_row_id) FROM green_tripdata") == REAL_ROWS


@pytest.mark.parametrize("column", ["vendorid", "ratecodeid", "store_and_fwd_flag", "passenger_count",
                                    "payment_type", "trip_type"])
def test_empty_fields_of_the_real_month_load_as_null(loaded_month, column):
    conninfo, _ = loaded_month
    assert scalar(conninfo, f"SELECT count(*) FROM green_tripdata WHERE {column} IS NULL") == APP_BASED_ROWS


def test_ehail_fee_is_empty_in_every_real_row(loaded_month):
    conninfo, _ = loaded_month
    assert scalar(conninfo, "SELECT count(ehail_fee) FROM green_tripdata") == 0


def test_forced_reload_of_the_real_month_adds_nothing(loaded_month):
    conninfo, csv = loaded_month
    run = run_month(conninfo, "green", "2020", "10", csv, reload=True)
    assert "unchanged" in run.executed and "merge" not in run.executed
    assert scalar(conninfo, "SELECT count(*) FROM green_tripdata") == REAL_ROWS
    assert scalar(conninfo, "SELECT rows_in_file FROM taxi_loads WHERE filename = 'green_tripdata_2020-10.csv'") \
        == REAL_ROWS
