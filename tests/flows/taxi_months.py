"""Generated taxi months shaped like the real CSV releases, written by PostgreSQL itself (fast enough
for a 7.6-million-row yellow month).

Shape kept from the real files: the header and column order of each taxi, `,`-separated, values as
the TLC writes them; green has CRLF line ends and an empty `ehail_fee`, and in 2019 an empty last
field (`congestion_surcharge`, introduced 2020); every 7th row has the empty integer fields of the
app-based trips (VendorID, RatecodeID, store_and_fwd_flag, passenger_count, payment_type and, for
green, trip_type). No two rows are identical: row i's pickup second is floor(i * month_seconds / n)
and its trip_distance cycles with i, so rows sharing a pickup second differ in distance.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psycopg

GREEN_COLUMNS = (
    "VendorID", "lpep_pickup_datetime", "lpep_dropoff_datetime", "store_and_fwd_flag", "RatecodeID",
    "PULocationID", "DOLocationID", "passenger_count", "trip_distance", "fare_amount", "extra", "mta_tax",
    "tip_amount", "tolls_amount", "ehail_fee", "improvement_surcharge", "total_amount", "payment_type",
    "trip_type", "congestion_surcharge",
)
YELLOW_COLUMNS = (
    "VendorID", "tpep_pickup_datetime", "tpep_dropoff_datetime", "passenger_count", "trip_distance",
    "RatecodeID", "store_and_fwd_flag", "PULocationID", "DOLocationID", "payment_type", "fare_amount",
    "extra", "mta_tax", "tip_amount", "tolls_amount", "improvement_surcharge", "total_amount",
    "congestion_surcharge",
)
COLUMNS = {"green": GREEN_COLUMNS, "yellow": YELLOW_COLUMNS}
APP_BASED_EVERY = 7
APP_BASED_EMPTY = {"VendorID", "RatecodeID", "store_and_fwd_flag", "passenger_count", "payment_type", "trip_type"}


def _expressions(taxi: str, year: int) -> dict[str, str]:
    """SQL producing each CSV field as text from g.i (row number) and g.pickup (its timestamp)."""
    app = f"(g.i % {APP_BASED_EVERY} = 0)"
    prefix = "l" if taxi == "green" else "t"
    values = {
        "VendorID": "(1 + g.i % 2)::text",
        f"{prefix}pep_pickup_datetime": "to_char(g.pickup, 'YYYY-MM-DD HH24:MI:SS')",
        f"{prefix}pep_dropoff_datetime": "to_char(g.pickup + (300 + g.i % 1800) * interval '1 second', 'YYYY-MM-DD HH24:MI:SS')",
        "store_and_fwd_flag": "CASE WHEN g.i % 97 = 0 THEN 'Y' ELSE 'N' END",
        "RatecodeID": "(1 + (g.i % 50 = 0)::int)::text",
        "PULocationID": "(1 + (g.i * 7919) % 265)::text",
        "DOLocationID": "(1 + (g.i * 104729) % 265)::text",
        "passenger_count": "(1 + g.i % 5)::text",
        "trip_distance": "to_char((g.i % 3001) / 100.0, 'FM990.00')",
        "fare_amount": "to_char(2.5 + (g.i % 3001) * 0.025, 'FM9990.00')",
        "extra": "'0.5'",
        "mta_tax": "'0.5'",
        "tip_amount": "to_char((g.i % 13) * 0.5, 'FM990.00')",
        "tolls_amount": "CASE WHEN g.i % 41 = 0 THEN '6.12' ELSE '0' END",
        "ehail_fee": "NULL",
        "improvement_surcharge": "'0.3'",
        "total_amount": "to_char(3.8 + (g.i % 3001) * 0.025 + (g.i % 13) * 0.5, 'FM9990.00')",
        "payment_type": "(1 + g.i % 2)::text",
        "trip_type": "'1'",
        "congestion_surcharge": "NULL" if year < 2020 else "CASE WHEN g.i % 3 = 0 THEN '2.75' ELSE '0' END",
    }
    return {
        column: (f"CASE WHEN {app} THEN NULL ELSE {expr} END" if column in APP_BASED_EMPTY else expr)
        for column, expr in values.items()
        if column in COLUMNS[taxi]
    }


def month_file_name(taxi: str, year: int, month: int) -> str:
    return f"{taxi}_tripdata_{year:04d}-{month:02d}.csv"


def write_month(conninfo: dict, taxi: str, year: int, month: int, rows: int, path: Path) -> Path:
    """Write a month of `rows` generated trips to `path` (CSV with header)."""
    start = dt.datetime(year, month, 1)
    end = dt.datetime(year + (month == 12), month % 12 + 1, 1)
    seconds = int((end - start).total_seconds())
    expressions = _expressions(taxi, year)
    select = ", ".join(f"{expressions[column]} AS {column}" for column in COLUMNS[taxi])
    query = (
        f"COPY (SELECT {select} FROM (SELECT i, timestamp '{start:%Y-%m-%d}' "
        f"+ (i::bigint * {seconds} / {rows}) * interval '1 second' AS pickup "
        f"FROM generate_series(0::bigint, {rows - 1}) AS i) AS g ORDER BY g.i) TO STDOUT WITH (FORMAT CSV)"
    )
    newline = b"\r\n" if taxi == "green" else b"\n"
    with psycopg.connect(**conninfo) as connection, connection.cursor() as cursor, path.open("wb") as out:
        out.write(",".join(COLUMNS[taxi]).encode() + newline)
        with cursor.copy(query) as copy:
            for chunk in copy:
                out.write(bytes(chunk).replace(b"\n", newline) if taxi == "green" else bytes(chunk))
    return path
