"""06_gcp_taxi's BigQuery SQL, rendered as the flow renders it and run for real on DuckDB: sqlglot
translates BigQuery's dialect (backticks, INT64, MD5 returning BYTES, QUALIFY, MERGE) into DuckDB's,
and DuckDB (>= 1.4, which has MERGE) runs the table's DDL and the merge on a month read from a CSV.
A row repeated within the file must be kept once, as Postgres keeps it, with the same row ids."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from tests.flows.conftest import GCP_KV, GREEN_SAMPLE, YELLOW_SAMPLE
from tests.flows.flow_runner import FLOWS_DIR, load_flow
from tests.flows.pebble import Context, Renderer

BIGQUERY_SQL = FLOWS_DIR / "zoomcamp/files/taxi/bigquery"
SAMPLES = {"green": (GREEN_SAMPLE, "2020", "10", b"\r\n"), "yellow": (YELLOW_SAMPLE, "2020", "07", b"\n")}


def rendered(taxi: str, name: str) -> str:
    _, year, month, _ = SAMPLES[taxi]
    context = Context(inputs={"taxi": taxi, "year": year, "month": month}, variables=load_flow("06_gcp_taxi")["variables"],
                      execution_id="MergeTest1", namespace="zoomcamp", namespace_files=FLOWS_DIR / "zoomcamp/files", kv=GCP_KV)
    return Renderer().render((BIGQUERY_SQL / f"{taxi}_{name}.sql").read_text(), context)


def with_repeated_row(taxi: str, folder: Path) -> Path:
    """The taxi's sample month with its fifth record appearing a second time at the end."""
    sample, _, _, newline = SAMPLES[taxi]
    lines = sample.read_bytes().rstrip(newline).split(newline)
    path = folder / f"{taxi}.csv"
    path.write_bytes(newline.join(lines + [lines[5]]) + newline)
    return path


def duckdb_statement(bigquery_sql: str) -> str:
    (statement,) = sqlglot.transpile(bigquery_sql, read="bigquery", write="duckdb")
    return statement


@pytest.mark.parametrize("taxi", ["green", "yellow"])
def test_the_merge_keeps_one_row_per_row_id_from_its_source_before_merging(taxi):
    merge = sqlglot.parse_one(rendered(taxi, "merge"), read="bigquery")
    assert isinstance(merge, exp.Merge)
    source = merge.args["using"]
    windows = [window for window in source.find_all(exp.Window) if isinstance(window.this, exp.RowNumber)]
    assert len(windows) == 1, "the MERGE's source numbers the copies of each row id"
    (partition,) = windows[0].args["partition_by"]
    assert partition.name == "unique_row_id"
    qualify = windows[0].find_ancestor(exp.Qualify)
    assert qualify is not None and qualify.find_ancestor(exp.Merge) is merge
    assert isinstance(qualify.this, exp.EQ) and qualify.this.expression.name == "1"
    # GoogleSQL's parser refuses a QUALIFY without one of these ("QUALIFY clause must be used in conjunction
    # with WHERE or GROUP BY or HAVING clause"; see tests/data/SOURCES.md): sqlglot and DuckDB do not
    select = qualify.parent
    assert any(select.args.get(clause) for clause in ("where", "group", "having")), "QUALIFY without WHERE"


@pytest.mark.parametrize("taxi", ["green", "yellow"])
def test_a_row_repeated_in_the_file_is_merged_once_with_the_postgres_row_id(taxi, tmp_path):
    month = with_repeated_row(taxi, tmp_path)
    database = duckdb.connect()
    database.execute("ATTACH ':memory:' AS demo")
    database.execute("CREATE SCHEMA demo.zoomcamp")
    external = f"demo.zoomcamp.{taxi}_tripdata_{SAMPLES[taxi][1]}_{SAMPLES[taxi][2]}_ext_mergetest1"
    # the external table reads every field as text, empty fields as NULL (BigQuery's CSV reading)
    database.execute(f"CREATE TABLE {external} AS SELECT * FROM read_csv(?, all_varchar = true, header = true)",
                     [str(month)])
    database.execute(duckdb_statement(rendered(taxi, "table")))
    merge = duckdb_statement(rendered(taxi, "merge"))

    database.execute(merge)
    database.execute(merge)  # a re-load adds nothing

    with month.open(newline="") as handle:
        records = list(csv.reader(handle))[1:]
    assert len(records) == len({tuple(record) for record in records}) + 1
    # Postgres's row id: md5 of the record's fields joined by commas (green_merge.sql / yellow_merge.sql)
    expected = {hashlib.md5(",".join(record).encode()).hexdigest() for record in records}
    stored = database.execute(f"SELECT lower(hex(unique_row_id)) FROM demo.zoomcamp.{taxi}_tripdata").fetchall()
    assert sorted(row_id for (row_id,) in stored) == sorted(expected)
