"""The two ways the taxi benchmarks load a month, and their helpers: the course's 02_postgres_taxi steps,
and this project's 02_postgres_taxi run by the flow runner (the flow's rendered SQL, its CopyIn, its
extract task's md5sum; only the download is left out). Both can add up where their time goes."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import psutil
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.flows.flow_runner import FlowRun, load_flow  # noqa: E402
from tests.flows.taxi_months import COLUMNS, month_file_name  # noqa: E402

YEAR = 2019

COURSE_TYPES = {
    "lpep_pickup_datetime": "timestamp", "lpep_dropoff_datetime": "timestamp",
    "tpep_pickup_datetime": "timestamp", "tpep_dropoff_datetime": "timestamp",
    "passenger_count": "integer", "payment_type": "integer", "trip_type": "integer",
    "VendorID": "text", "RatecodeID": "text", "store_and_fwd_flag": "text",
    "PULocationID": "text", "DOLocationID": "text",
}
COURSE_ROW_ID_FIELDS = ("VendorID", "{p}pep_pickup_datetime", "{p}pep_dropoff_datetime", "PULocationID",
                        "DOLocationID", "fare_amount", "trip_distance")


class StepTimes:
    """Seconds per step name, summed over loads (thread-safe: a backfill's months run at once)."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, step: str, seconds: float) -> None:
        with self._lock:
            self.seconds[step] += seconds


def course_load(conninfo: dict, taxi: str, month: int, csv_path: Path, steps: StepTimes | None = None) -> None:
    """The course's 02_postgres_taxi steps, one transaction per Kestra task as there."""
    columns = COLUMNS[taxi]
    typed = ",\n".join(f"{c} {COURSE_TYPES.get(c, 'double precision')}" for c in columns)
    final, staging = f"public.{taxi}_tripdata", f"public.{taxi}_tripdata_{YEAR}_{month:02d}"
    file_name = month_file_name(taxi, YEAR, month)
    prefix = "l" if taxi == "green" else "t"
    row_id = " || ".join(f"COALESCE(CAST({f.format(p=prefix)} AS text), '')" for f in COURSE_ROW_ID_FIELDS)
    column_list = ", ".join(("unique_row_id", "filename") + columns)
    source_list = ", ".join(f"S.{c}" for c in ("unique_row_id", "filename") + columns)
    plan = [
        ("create tables", f"CREATE TABLE IF NOT EXISTS {final} (unique_row_id text, filename text, {typed})"),
        ("create tables", f"CREATE TABLE IF NOT EXISTS {staging} ({typed})"),
        ("truncate staging", f"TRUNCATE TABLE {staging}"),
        ("copy", f"COPY {staging} ({', '.join(columns)}) FROM STDIN WITH (FORMAT CSV, HEADER TRUE)"),
        ("add columns", f"ALTER TABLE {staging} ADD COLUMN IF NOT EXISTS unique_row_id text, "
                        "ADD COLUMN IF NOT EXISTS filename text"),
        ("update row ids", f"UPDATE {staging} SET unique_row_id = md5({row_id}), filename = '{file_name}'"),
        ("merge", f"MERGE INTO {final} AS T USING {staging} AS S ON T.unique_row_id = S.unique_row_id "
                  f"WHEN NOT MATCHED THEN INSERT ({column_list}) VALUES ({source_list})"),
    ]
    for name, statement in plan:
        start = time.perf_counter()
        with psycopg.connect(**conninfo) as connection:
            if name == "copy":
                with connection.cursor().copy(statement) as copy, csv_path.open("rb") as data:
                    while chunk := data.read(1 << 20):
                        copy.write(chunk)
            else:
                connection.execute(statement)
        if steps is not None:
            steps.add(name, time.perf_counter() - start)


def flow_load(conninfo: dict, taxi: str, month: int, csv_path: Path, execution_id: str, reload: bool,
              steps: StepTimes | None = None) -> None:
    """02_postgres_taxi for one month whose download is `csv_path`; `steps` gets each task's seconds."""
    clock = {"task": None, "since": time.perf_counter()}

    def next_task(task_id: str | None) -> None:
        now = time.perf_counter()
        if steps is not None and clock["task"] is not None:
            steps.add(clock["task"], now - clock["since"])
        clock.update(task=task_id, since=now)

    run = FlowRun(
        flow=load_flow("02_postgres_taxi"),
        inputs={"taxi": taxi, "year": str(YEAR), "month": f"{month:02d}", "reload": reload},
        execution_id=execution_id,
        conninfo=conninfo,
        fetch=lambda url: csv_path,
        before_task=next_task,
    )
    run.run()
    next_task(None)


@dataclass(frozen=True)
class Cost:
    wall: float
    server_cpu: float  # every process of the cluster
    client_cpu: float  # this process (all threads) and the subprocesses it waited for (the flow's md5sum)


def cluster_cpu_seconds(datadir: Path) -> float:
    """CPU seconds of the cluster: the postmaster's own and its exited children's (backends and parallel
    workers it reaped), plus its running children's. A child exiting between the two reads is missed."""
    postmaster = psutil.Process(int((datadir / "postmaster.pid").read_text().split()[0]))
    times = postmaster.cpu_times()
    total = times.user + times.system + times.children_user + times.children_system
    for child in postmaster.children():
        try:
            times = child.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def client_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def measured(datadir: Path, action) -> Cost:
    """Wall time and CPU seconds of action(): CPU stays meaningful on a machine other work shares."""
    server, client, start = cluster_cpu_seconds(datadir), client_cpu_seconds(), time.perf_counter()
    action()
    wall = time.perf_counter() - start
    return Cost(wall, cluster_cpu_seconds(datadir) - server, client_cpu_seconds() - client)


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def fresh_database(admin: dict, name: str) -> dict:
    with psycopg.connect(**admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name}")
        connection.execute(f"CREATE DATABASE {name}")
    return {**admin, "dbname": name}


def count_rows(conninfo: dict, table: str) -> int:
    with psycopg.connect(**conninfo) as connection:
        return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
