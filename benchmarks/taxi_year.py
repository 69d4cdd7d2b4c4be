"""The seed's own job, a backfill of green 2019: `taxi_load.py --year`.

Twelve generated green months of real size, loaded (SQL only: the download is left out on both sides)
  * the course's way: one month after another, as its shared staging table forces,
  * this project's way: as a backfill runs 02_postgres_taxi, --parallel months at a time,
  * the floor: a bare COPY of the same files into one empty table of the final table's types, one file
    after another and --parallel files at a time (the faster counts),
each into a fresh database of one PostgreSQL with fsync on, and prints each one's wall time and CPU
seconds (the cluster's, and this process's with its md5sum: on a machine other work shares, CPU seconds
vary less than wall time), course ÷ ours and ours ÷ floor, then where each side's time went (seconds
summed over the months, per step or flow task).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg

from taxi_loaders import YEAR, StepTimes, count_rows, course_load, flow_load, fresh_database, measured
from tests.flows.taxi_months import COLUMNS, month_file_name, write_month

FLOOR_TYPES = {
    "lpep_pickup_datetime": "timestamp", "lpep_dropoff_datetime": "timestamp", "store_and_fwd_flag": "text",
    "VendorID": "integer", "RatecodeID": "integer", "PULocationID": "integer", "DOLocationID": "integer",
    "passenger_count": "integer", "payment_type": "integer", "trip_type": "integer",
}


def all_at(parallel: int, action, items) -> None:
    """Run action(item) for every item, `parallel` at a time; the first failure fails the whole."""
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        for future in [pool.submit(action, item) for item in items]:
            future.result()


def floor_copy(conninfo: dict, files: dict[int, Path], parallel: int) -> None:
    columns = COLUMNS["green"]
    with psycopg.connect(**conninfo) as connection:
        connection.execute("CREATE TABLE public.green_floor ("
                           + ", ".join(f"{c} {FLOOR_TYPES.get(c, 'double precision')}" for c in columns) + ")")

    def copy_file(path: Path) -> None:
        with psycopg.connect(**conninfo) as connection, connection.cursor() as cursor:
            with cursor.copy(f"COPY public.green_floor ({', '.join(columns)}) FROM STDIN "
                             "WITH (FORMAT CSV, HEADER TRUE)") as copy, path.open("rb") as data:
                while chunk := data.read(1 << 20):
                    copy.write(chunk)

    all_at(parallel, copy_file, files.values())


def run_year(admin: dict, datadir: Path, months: int, rows: int, parallel: int, folder: Path) -> None:
    files = {m: write_month(admin, "green", YEAR, m, rows, folder / month_file_name("green", YEAR, m))
             for m in range(1, months + 1)}
    expected = months * rows
    course_steps, ours_steps = StepTimes(), StepTimes()

    course_db = fresh_database(admin, "course_year")
    course = measured(datadir, lambda: [course_load(course_db, "green", m, path, course_steps)
                                        for m, path in files.items()])
    ours_db = fresh_database(admin, "ours_year")
    ours = measured(datadir, lambda: all_at(parallel, lambda m: flow_load(
        ours_db, "green", m, files[m], f"year{m:02d}", False, ours_steps), files))
    floors = {}
    for width in sorted({1, parallel}):
        floor_db = fresh_database(admin, f"floor_year_{width}")
        floors[width] = measured(datadir, lambda: floor_copy(floor_db, files, width))
        if count_rows(floor_db, "green_floor") != expected:
            raise SystemExit(f"floor ({width} at a time): expected {expected} rows")
    for name, conninfo in (("course", course_db), ("ours", ours_db)):
        if count_rows(conninfo, "green_tripdata") != expected:
            raise SystemExit(f"green year, {name}: expected {expected} rows in the final table")
    floor = min(floors.values(), key=lambda cost: cost.wall)

    label = f"green {YEAR}-01..{months:02d}, {months} x {rows:,} rows"
    header = (label, "wall s", "server CPU s", "client CPU s", "course ÷ this (wall)", "this ÷ floor (wall)")
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    lines = [("course: one month after another", course), (f"ours: {parallel} months at a time", ours)]
    lines += [(f"floor: bare COPY, {width} file{'s' * (width > 1)} at a time", cost) for width, cost in floors.items()]
    for name, cost in lines:
        print(" | ".join((name, f"{cost.wall:.1f}", f"{cost.server_cpu:.1f}", f"{cost.client_cpu:.1f}",
                          f"{course.wall / cost.wall:.1f}x", f"{cost.wall / floor.wall:.1f}x")))
    print(f"course ÷ ours {course.wall / ours.wall:.2f}x (target >= 3), ours ÷ floor {ours.wall / floor.wall:.2f}x "
          f"(target <= 3); server CPU: course ÷ ours {course.server_cpu / ours.server_cpu:.2f}x")
    for name, steps in (("course", course_steps), ("ours (tasks of months running at once overlap)", ours_steps)):
        print(f"where {name} went, s summed over the months: "
              + ", ".join(f"{step} {seconds:.1f}" for step, seconds in steps.seconds.most_common() if seconds >= 0.05))
