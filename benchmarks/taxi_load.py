"""Taxi month load: the flows' SQL against the course's approach, on one PostgreSQL in one run.

    .venv/bin/python benchmarks/taxi_load.py [--yellow-fraction 1.0] [--green-rows 630918] [--repeat 1]
    .venv/bin/python benchmarks/taxi_load.py --year [--months 12] [--rows 630918] [--parallel 2]

--year: the seed's backfill of green 2019, see taxi_year.py. Otherwise:

Generates a green month of real size (630,918 rows, like 2019-01) and a yellow month (7,667,792 rows
like 2019-01, times --yellow-fraction), then loads each
  * through 02_postgres_taxi exactly as the flow runs it (tests/flows/flow_runner.py: the flow's
    rendered SQL, its CopyIn statement, the extract task's md5sum of the file; the download itself is
    left out on both sides), first load, a forced re-load of the same file (reload=true: the file's
    md5 is the recorded one, so the flow stops before its COPY) and a plain re-run (skipped), and
  * through the course's approach: COPY into a shared monthly staging table, an UPDATE adding an
    md5 row id and the filename, a MERGE into the final table without an index,
each on a fresh database of the same server, and prints the times (the best of --repeat runs).
The server keeps PostgreSQL's crash-safety defaults (fsync, full_page_writes, synchronous_commit on),
as the postgres image runs, unlike the test suite's fsync-off cluster.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import psycopg

from taxi_loaders import YEAR, count_rows, course_load, flow_load, fresh_database, timed
from taxi_year import run_year
from tests.flows.taxi_months import COLUMNS, month_file_name, write_month
from tests.postgres_server import start_postgres

GREEN_ROWS = 630_918
YELLOW_ROWS = 7_667_792
MONTH = 1


def add_other_months(conninfo: dict, taxi: str, months: range, uuid_ids: bool) -> None:
    """Copy the loaded month as further months (new filenames and row ids), as a backfill would leave them."""
    columns = ", ".join(c.lower() for c in COLUMNS[taxi])
    new_id = "md5(t.unique_row_id::text || m)" + ("::uuid" if uuid_ids else "")
    with psycopg.connect(**conninfo) as connection:
        partitioned = connection.execute(
            "SELECT relkind = 'p' FROM pg_class WHERE oid = %s::regclass", (f"public.{taxi}_tripdata",)
        ).fetchone()[0]
        for m in months if partitioned else ():
            name = f"{taxi}_tripdata_{YEAR}_{m:02d}"
            connection.execute(
                f"CREATE TABLE public.{name} PARTITION OF public.{taxi}_tripdata (PRIMARY KEY (unique_row_id)) "
                f"FOR VALUES IN ('{month_file_name(taxi, YEAR, m)}')"
            )
        connection.execute(
            f"INSERT INTO public.{taxi}_tripdata (unique_row_id, filename, {columns}) "
            f"SELECT {new_id}, replace(t.filename, '-{MONTH:02d}.csv', '-' || lpad(m::text, 2, '0') || '.csv'), "
            f"{', '.join('t.' + c.lower() for c in COLUMNS[taxi])} "
            f"FROM public.{taxi}_tripdata AS t CROSS JOIN generate_series({months.start}, {months.stop - 1}) AS m "
            "ORDER BY 2, 1"
        )
    with psycopg.connect(**conninfo, autocommit=True) as connection:
        connection.execute(f"VACUUM ANALYZE public.{taxi}_tripdata")


def later_month(admin: dict, rows: int, folder: Path) -> tuple:
    """Green 2019-12 into tables already holding 2019-01..11: the 12th month of a year's backfill."""
    csv_path = write_month(admin, "green", YEAR, 12, rows, folder / month_file_name("green", YEAR, 12))
    course_db, ours_db = fresh_database(admin, "course_year"), fresh_database(admin, "ours_year")
    first = folder / month_file_name("green", YEAR, MONTH)
    write_month(admin, "green", YEAR, MONTH, rows, first)
    course_load(course_db, "green", MONTH, first)
    flow_load(ours_db, "green", MONTH, first, "yearfirst", False)
    first.unlink()
    add_other_months(course_db, "green", range(2, 12), uuid_ids=False)
    add_other_months(ours_db, "green", range(2, 12), uuid_ids=True)
    course_first = timed(lambda: course_load(course_db, "green", 12, csv_path))
    ours_first = timed(lambda: flow_load(ours_db, "green", 12, csv_path, "year12", False))
    course_again = timed(lambda: course_load(course_db, "green", 12, csv_path))
    ours_again = timed(lambda: flow_load(ours_db, "green", 12, csv_path, "year12reload", True))
    ours_skip = timed(lambda: flow_load(ours_db, "green", 12, csv_path, "year12skip", False))
    for conninfo in (course_db, ours_db):
        if count_rows(conninfo, "green_tripdata") != 12 * rows:
            raise SystemExit("green year: expected 12 months of rows in both final tables")
    csv_path.unlink()
    return (f"green {YEAR}-12, tables holding 11 months", rows, course_first, ours_first, course_again, ours_again,
            ours_skip)


def month_mode(admin: dict, args: argparse.Namespace, folder: Path) -> None:
    yellow_rows = int(YELLOW_ROWS * args.yellow_fraction)
    results = []
    for taxi, rows in (("green", args.green_rows), ("yellow", yellow_rows)):
        csv_path = write_month(admin, taxi, YEAR, MONTH, rows, folder / month_file_name(taxi, YEAR, MONTH))
        best: list[float] = []
        for attempt in range(args.repeat):
            course_db = fresh_database(admin, f"course_{taxi}")
            course_first = timed(lambda: course_load(course_db, taxi, MONTH, csv_path))
            course_again = timed(lambda: course_load(course_db, taxi, MONTH, csv_path))
            ours_db = fresh_database(admin, f"ours_{taxi}")
            ours_first = timed(lambda: flow_load(ours_db, taxi, MONTH, csv_path, f"first{attempt}", False))
            ours_again = timed(lambda: flow_load(ours_db, taxi, MONTH, csv_path, f"reload{attempt}", True))
            ours_skip = timed(lambda: flow_load(ours_db, taxi, MONTH, csv_path, f"skip{attempt}", False))
            if count_rows(ours_db, f"{taxi}_tripdata") != rows or count_rows(course_db, f"{taxi}_tripdata") != rows:
                raise SystemExit(f"{taxi}: expected {rows} rows in both final tables")
            times = [course_first, ours_first, course_again, ours_again, ours_skip]
            best = times if not best else [min(a, b) for a, b in zip(best, times)]
            print(f"{taxi} run {attempt + 1}: " + " ".join(f"{t:.1f}" for t in times), file=sys.stderr)
        results.append((f"{taxi} {YEAR}-{MONTH:02d}, empty tables", rows, *best))
        csv_path.unlink()
        if taxi == "green" and args.backfill_month:
            results.append(later_month(admin, rows, folder))

    header = ("month", "rows", "course 1st s", "ours 1st s", "speed-up", "course re-load s",
              "ours re-load s", "re-load/1st", "ours skip s")
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for label, rows, course_first, ours_first, course_again, ours_again, ours_skip in results:
        print(" | ".join((
            label, f"{rows:,}", f"{course_first:.1f}", f"{ours_first:.1f}",
            f"{course_first / ours_first:.1f}x", f"{course_again:.1f}", f"{ours_again:.1f}",
            f"{ours_again / ours_first:.0%}", f"{ours_skip:.2f}",
        )))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--green-rows", "--rows", type=int, default=GREEN_ROWS, help="rows of each green month")
    parser.add_argument("--yellow-fraction", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement; the best is reported")
    parser.add_argument("--no-backfill-month", dest="backfill_month", action="store_false",
                        help="skip the green 2019-12 load into tables already holding 2019-01..11")
    year = parser.add_argument_group("year mode (taxi_year.py): green 2019 as the seed's backfill loads it")
    year.add_argument("--year", action="store_true", help="run the year mode instead of the month loads")
    year.add_argument("--months", type=int, default=12, choices=range(1, 13), metavar="1..12",
                      help="months of the year (default 12)")
    year.add_argument("--parallel", type=int, default=2, help="months ours loads at a time (default 2)")
    args = parser.parse_args()

    server = start_postgres(durable=True)
    try:
        with tempfile.TemporaryDirectory(prefix="taxi-bench-") as tmp:
            if args.year:
                run_year(server.conninfo(), server.datadir, args.months, args.green_rows, args.parallel, Path(tmp))
            else:
                month_mode(server.conninfo(), args, Path(tmp))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
