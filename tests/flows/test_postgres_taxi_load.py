"""02_postgres_taxi and 02_postgres_taxi_scheduled, run task by task against a real PostgreSQL on the
real sample rows and on generated months: counts, NULLs, idempotence and months loading in parallel."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from tests.flows.conftest import (
    GREEN_SAMPLE, YELLOW_SAMPLE, files_by_url, month_url, run_month, scalar,
)
from tests.flows.flow_runner import FlowRun, load_flow
from tests.flows.taxi_months import APP_BASED_EVERY, COLUMNS, write_month

pytestmark = pytest.mark.postgres

GENERATED_ROWS = 3_000


@pytest.fixture(scope="module")
def generated(taxi_db: dict, tmp_path_factory: pytest.TempPathFactory):
    """Generated months, written once per module: (taxi, year, month) -> CSV path."""
    folder = tmp_path_factory.mktemp("months")
    months = {}
    for taxi, year, month in (("green", 2019, 1), ("green", 2019, 2), ("green", 2020, 3),
                              ("yellow", 2019, 1), ("yellow", 2019, 2)):
        path = folder / f"{taxi}_{year}_{month:02d}.csv"
        months[(taxi, year, month)] = write_month(taxi_db, taxi, year, month, GENERATED_ROWS, path)
    return months


def final_columns(conninfo: dict, table: str) -> list[str]:
    with psycopg.connect(**conninfo) as connection:
        rows = connection.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
            (table,),
        ).fetchall()
    return [name for (name,) in rows]


def test_green_sample_loads_every_row_with_its_values(clean_db):
    run_month(clean_db, "green", "2020", "10", GREEN_SAMPLE)

    assert scalar(clean_db, "SELECT count(*) FROM green_tripdata") == 300
    assert scalar(clean_db, "SELECT count(DISTINCT unique_row_id) FROM green_tripdata") == 300
    with psycopg.connect(**clean_db) as connection:
        first = connection.execute(
            "SELECT vendorid, lpep_pickup_datetime, trip_distance, ehail_fee, congestion_surcharge, filename "
            "FROM green_tripdata WHERE lpep_pickup_datetime = '2020-10-01 00:31:19'"
        ).fetchone()
    assert first == (2, dt.datetime(2020, 10, 1, 0, 31, 19), 0.79, None, 0.0, "green_tripdata_2020-10.csv")


def test_final_tables_have_the_csv_columns_plus_row_id_and_filename(clean_db):
    run_month(clean_db, "green", "2020", "10", GREEN_SAMPLE)
    run_month(clean_db, "yellow", "2020", "07", YELLOW_SAMPLE)

    for taxi, count in (("green", 20), ("yellow", 18)):
        columns = final_columns(clean_db, f"{taxi}_tripdata")
        assert columns == ["unique_row_id", "filename"] + [c.lower() for c in COLUMNS[taxi]]
        assert len(columns) == count + 2


def test_yellow_sample_loads_all_266_rides(clean_db):
    run_month(clean_db, "yellow", "2020", "07", YELLOW_SAMPLE)

    assert scalar(clean_db, "SELECT count(*) FROM yellow_tripdata") == 266
    assert scalar(clean_db, "SELECT count(DISTINCT unique_row_id) FROM yellow_tripdata") == 266
    assert scalar(clean_db, "SELECT sum(total_amount)::numeric(12,2) FROM yellow_tripdata") > 0


def test_reloading_a_month_adds_no_rows_whether_skipped_or_forced(clean_db):
    first = run_month(clean_db, "green", "2020", "10", GREEN_SAMPLE)
    skipped = run_month(clean_db, "green", "2020", "10", GREEN_SAMPLE)
    forced = run_month(clean_db, "green", "2020", "10", GREEN_SAMPLE, reload=True)

    assert "merge" in first.executed
    assert "already_loaded" in skipped.executed and "extract" not in skipped.executed
    assert skipped.fetched_urls == []
    # the forced re-load downloads the file, finds its md5 the recorded one and stops before the COPY
    assert "unchanged" in forced.executed and "copy_in" not in forced.executed and "merge" not in forced.executed
    assert scalar(clean_db, "SELECT file_md5 FROM taxi_loads") == hashlib.md5(GREEN_SAMPLE.read_bytes()).hexdigest()
    assert scalar(clean_db, "SELECT count(*) FROM green_tripdata") == 300
    assert scalar(clean_db, "SELECT rows_in_file FROM taxi_loads") == 300


def test_a_forced_reload_of_a_changed_file_replaces_the_month(clean_db, tmp_path: Path):
    run_month(clean_db, "green", "2020", "10", GREEN_SAMPLE)
    lines = GREEN_SAMPLE.read_bytes().split(b"\r\n")
    corrected = tmp_path / "corrected.csv"
    corrected.write_bytes(b"\r\n".join(lines[:101] + [lines[101].replace(b"2020-10-01", b"2020-10-02", 1)]
                                       + lines[102:201]))  # 200 rows, one of them changed

    forced = run_month(clean_db, "green", "2020", "10", corrected, reload=True)

    assert "merge" in forced.executed
    assert scalar(clean_db, "SELECT count(*) FROM green_tripdata") == 200
    assert scalar(clean_db, "SELECT count(*) FROM green_tripdata WHERE lpep_pickup_datetime >= '2020-10-02'") == 1
    assert scalar(clean_db, "SELECT rows_in_file FROM taxi_loads") == 200


def test_a_forced_reload_rebuilds_a_month_whose_rows_were_deleted(clean_db):
    run_month(clean_db, "green", "2020", "10", GREEN_SAMPLE)
    with psycopg.connect(**clean_db) as connection:
        connection.execute("DELETE FROM green_tripdata WHERE ctid IN (SELECT ctid FROM green_tripdata LIMIT 5)")

    forced = run_month(clean_db, "green", "2020", "10", GREEN_SAMPLE, reload=True)

    assert "merge" in forced.executed
    assert scalar(clean_db, "SELECT count(*) FROM green_tripdata") == 300


def test_a_row_repeated_in_the_file_is_stored_once(clean_db, tmp_path: Path):
    lines = GREEN_SAMPLE.read_bytes().split(b"\r\n")
    repeated = tmp_path / "repeated.csv"
    repeated.write_bytes(b"\r\n".join(lines[:6] + lines[3:6] + lines[6:]))

    run_month(clean_db, "green", "2020", "10", repeated)

    assert scalar(clean_db, "SELECT count(*) FROM green_tripdata") == 300
    assert scalar(clean_db, "SELECT rows_in_file FROM taxi_loads") == 303


def test_generated_green_months_keep_empty_fields_as_null(clean_db, generated):
    run_month(clean_db, "green", "2019", "01", generated[("green", 2019, 1)])
    run_month(clean_db, "green", "2020", "03", generated[("green", 2020, 3)])

    app_based = len(range(0, GENERATED_ROWS, APP_BASED_EVERY))
    per_file = dict(scalar(clean_db, "SELECT array_agg(ARRAY[filename, count::text]) FROM "
                                     "(SELECT filename, count(*) FROM green_tripdata GROUP BY 1) AS c"))
    assert per_file == {"green_tripdata_2019-01.csv": str(GENERATED_ROWS),
                        "green_tripdata_2020-03.csv": str(GENERATED_ROWS)}
    for column in ("vendorid", "ratecodeid", "store_and_fwd_flag", "passenger_count", "payment_type", "trip_type"):
        assert scalar(clean_db, f"SELECT count(*) FROM green_tripdata WHERE {column} IS NULL") == 2 * app_based
    assert scalar(clean_db, "SELECT count(*) FROM green_tripdata WHERE ehail_fee IS NOT NULL") == 0
    # 2019 files end every row with an empty congestion_surcharge; 2020 files fill it
    assert scalar(clean_db, "SELECT count(congestion_surcharge) FROM green_tripdata "
                            "WHERE filename = 'green_tripdata_2019-01.csv'") == 0
    assert scalar(clean_db, "SELECT count(congestion_surcharge) FROM green_tripdata "
                            "WHERE filename = 'green_tripdata_2020-03.csv'") == GENERATED_ROWS


def test_generated_files_have_the_real_files_line_ends_and_no_identical_rows(generated):
    green = generated[("green", 2019, 1)].read_bytes()
    yellow = generated[("yellow", 2019, 1)].read_bytes()
    assert green.count(b"\r\n") == GENERATED_ROWS + 1 and green.count(b"\n") == GENERATED_ROWS + 1
    assert b"\r" not in yellow
    assert all(line.endswith(b",") for line in green.split(b"\r\n")[1:-1])
    rows = yellow.split(b"\n")[1:-1]
    assert len(rows) == len(set(rows)) == GENERATED_ROWS


def test_two_months_loading_in_lockstep_both_complete(clean_db, generated):
    """Two executions on their own connections in two threads; a barrier makes them start every task
    together (both prepare the tables, both COPY, both merge), as a parallel backfill would."""
    barrier = threading.Barrier(2, timeout=60)
    runs = [
        FlowRun(load_flow("02_postgres_taxi"), {"taxi": "green", "year": "2019", "month": month}, f"Lock{month}Step",
                clean_db, files_by_url({month_url("green", "2019", month): generated[("green", 2019, int(month))]}),
                before_task=lambda task_id: barrier.wait())
        for month in ("01", "02")
    ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        for future in [pool.submit(run.run) for run in runs]:
            future.result()

    assert runs[0].executed == runs[1].executed
    assert scalar(clean_db, "SELECT count(*) FROM green_tripdata") == 2 * GENERATED_ROWS
    assert scalar(clean_db, "SELECT count(DISTINCT (filename, unique_row_id)) FROM green_tripdata") == 2 * GENERATED_ROWS
    assert scalar(clean_db, "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'green_staging_%'") == 0
    assert scalar(clean_db, "SELECT array_agg(tablename::text ORDER BY tablename) FROM pg_tables "
                            "WHERE tablename LIKE 'green_tripdata_%'") == ["green_tripdata_2019_01", "green_tripdata_2019_02"]


def test_a_month_loads_while_the_final_table_is_being_written_and_read(clean_db, generated):
    """A backfill's months overlap, and people query the table meanwhile: a month's load (which attaches
    its partition at the end) must not wait for an open transaction that writes another month's rows
    (ROW EXCLUSIVE on the final table) and reads the table (ACCESS SHARE)."""
    run_month(clean_db, "green", "2019", "01", generated[("green", 2019, 1)])
    with psycopg.connect(**clean_db) as open_transaction:
        open_transaction.execute("SELECT count(*) FROM green_tripdata")
        open_transaction.execute("INSERT INTO green_tripdata (unique_row_id, filename) "
                                 "VALUES (gen_random_uuid(), 'green_tripdata_2019-01.csv')")
        impatient = {**clean_db, "options": "-c lock_timeout=5s"}
        run_month(impatient, "green", "2019", "02", generated[("green", 2019, 2)])
        open_transaction.rollback()

    assert scalar(clean_db, "SELECT count(*) FROM green_tripdata") == 2 * GENERATED_ROWS


def test_each_month_is_a_partition_holding_only_its_file(clean_db, generated):
    run_month(clean_db, "green", "2019", "01", generated[("green", 2019, 1)])
    run_month(clean_db, "green", "2019", "02", generated[("green", 2019, 2)])

    partitions = scalar(clean_db, "SELECT array_agg(c.relname::text ORDER BY c.relname) FROM pg_inherits AS i "
                                  "JOIN pg_class AS c ON c.oid = i.inhrelid WHERE i.inhparent = 'green_tripdata'::regclass")
    assert partitions == ["green_tripdata_2019_01", "green_tripdata_2019_02"]
    assert scalar(clean_db, "SELECT count(*) FROM green_tripdata_2019_02") == GENERATED_ROWS
    with pytest.raises(psycopg.errors.UniqueViolation), psycopg.connect(**clean_db) as connection:
        connection.execute("INSERT INTO green_tripdata SELECT * FROM green_tripdata_2019_02 LIMIT 1")
    with pytest.raises(psycopg.errors.CheckViolation), psycopg.connect(**clean_db) as connection:
        connection.execute("INSERT INTO green_tripdata_2019_02 (unique_row_id, filename) "
                           "VALUES (gen_random_uuid(), 'green_tripdata_2019-01.csv')")


def test_the_same_month_loading_twice_at_once_adds_it_once(clean_db, generated):
    barrier = threading.Barrier(2, timeout=60)
    csv = generated[("yellow", 2019, 1)]
    runs = [
        FlowRun(load_flow("02_postgres_taxi"), {"taxi": "yellow", "year": "2019", "month": "01"}, f"Twin{n}Run",
                clean_db, files_by_url({month_url("yellow", "2019", "01"): csv}),
                before_task=lambda task_id: barrier.wait())
        for n in (1, 2)
    ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        for future in [pool.submit(run.run) for run in runs]:
            future.result()

    assert scalar(clean_db, "SELECT count(*) FROM yellow_tripdata") == GENERATED_ROWS


def test_green_and_yellow_first_runs_in_parallel_create_their_tables_once(clean_db, generated):
    barrier = threading.Barrier(2, timeout=60)
    runs = [
        FlowRun(load_flow("02_postgres_taxi"), {"taxi": taxi, "year": "2019", "month": "02"}, f"First{taxi}",
                clean_db, files_by_url({month_url(taxi, "2019", "02"): generated[(taxi, 2019, 2)]}),
                before_task=lambda task_id: barrier.wait())
        for taxi in ("green", "yellow")
    ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        for future in [pool.submit(run.run) for run in runs]:
            future.result()

    assert scalar(clean_db, "SELECT count(*) FROM green_tripdata") == GENERATED_ROWS
    assert scalar(clean_db, "SELECT count(*) FROM yellow_tripdata") == GENERATED_ROWS
    assert scalar(clean_db, "SELECT count(*) FROM taxi_loads") == 2


def test_a_failed_load_leaves_no_staging_table_and_no_rows(clean_db, tmp_path: Path):
    broken = tmp_path / "broken.csv"
    broken.write_text(GREEN_SAMPLE.read_text().replace("2020-10-01 00:31:19", "not a timestamp", 1))

    with pytest.raises(psycopg.errors.InvalidDatetimeFormat):
        run_month(clean_db, "green", "2020", "10", broken)

    assert scalar(clean_db, "SELECT count(*) FROM green_tripdata") == 0
    assert scalar(clean_db, "SELECT count(*) FROM taxi_loads") == 0
    assert scalar(clean_db, "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'green_staging_%'") == 0
    assert scalar(clean_db, "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'green_tripdata_%'") == 0


def test_the_data_base_url_comes_from_kv_when_set(clean_db):
    mirror = "http://mirror.test/nyc-tlc"
    run = FlowRun(load_flow("02_postgres_taxi"), {"taxi": "green", "year": "2020", "month": "10"}, "MirrorRun",
                  clean_db, files_by_url({month_url("green", "2020", "10", base=mirror): GREEN_SAMPLE}),
                  kv={"TAXI_DATA_BASE_URL": mirror})
    run.run()
    assert run.fetched_urls == [month_url("green", "2020", "10", base=mirror)]


@pytest.mark.parametrize(("trigger_id", "taxi"), [("green_schedule", "green"), ("yellow_schedule", "yellow")])
def test_scheduled_flow_loads_the_month_of_its_trigger_date(clean_db, generated, trigger_id, taxi):
    flow = load_flow("02_postgres_taxi_scheduled")
    trigger = next(t for t in flow["triggers"] if t["id"] == trigger_id)
    # a backfill execution of 2019-02-01 09:00/10:00 New York time
    date = dt.datetime(2019, 2, 1, 9 if taxi == "green" else 10)
    run = FlowRun(flow, trigger["inputs"], f"Sched{taxi}", clean_db,
                  files_by_url({month_url(taxi, "2019", "02"): generated[(taxi, 2019, 2)]}), trigger_date=date)
    run.run()

    assert run.labels == {"file": f"{taxi}_tripdata_2019-02.csv", "taxi": taxi}
    assert scalar(clean_db, f"SELECT count(*) FROM {taxi}_tripdata WHERE filename = '{taxi}_tripdata_2019-02.csv'") \
        == GENERATED_ROWS
