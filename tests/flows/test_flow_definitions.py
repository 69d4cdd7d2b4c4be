"""The flow files themselves: they pass the validation `ops seed-flows` runs, carry no environment,
use Kestra 1.1 task types, and keep the contracts (flow ids, schedules, KV keys, SQL that Kestra's
JDBC tasks can run)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from kestra_ops.validation import validate_directory
from tests.flows.flow_runner import FLOWS_DIR, split_statements
from tests.flows.pebble import Context, Renderer
from tests.flows.taxi_months import COLUMNS
from tests.kestra_emulator.spec import SPEC_FILE

NAMESPACE_DIR = FLOWS_DIR / "zoomcamp"
FLOW_IDS = {
    "01_getting_started_data_pipeline", "02_postgres_taxi", "02_postgres_taxi_scheduled", "03_postgres_dbt",
    "05_gcp_setup", "06_gcp_taxi", "06_gcp_taxi_scheduled", "07_gcp_dbt",
}
# KV keys the stack's kestra_kv sets (GCP_* with a GCP project; TAXI_POSTGRES for the dbt flow)
STACK_KV_KEYS = {"GCP_PROJECT_ID", "GCP_LOCATION", "GCP_BUCKET_NAME", "GCP_DATASET", "GCP_CREDS", "TAXI_POSTGRES"}
CONNECTION_KEYS = {"url", "username", "password", "projectId", "serviceAccount"}
SQL_FILES = sorted((NAMESPACE_DIR / "files").rglob("*.sql"))


def flows() -> dict[str, dict[str, Any]]:
    return {path.stem: yaml.load(path.read_text(), Loader=yaml.CSafeLoader)
            for path in sorted(NAMESPACE_DIR.glob("*.yaml"))}


def walk(node: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) of every mapping in a flow, depth first."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def tasks(node: Any) -> list[dict[str, Any]]:
    """Every task of a flow, nested ones (If, Sequential, WorkingDirectory, finally) included."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if isinstance(node.get("id"), str) and "." in str(node.get("type", "")):
            found.append(node)
        for value in node.values():
            found.extend(tasks(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(tasks(item))
    return found


def test_every_flow_passes_the_ops_validation_with_the_stacks_kv_keys():
    report = validate_directory(FLOWS_DIR, kv_keys=STACK_KV_KEYS, strict=True)
    assert report.errors == ()
    assert report.warnings == ()
    assert {flow.id for flow in report.flows} == FLOW_IDS
    assert {flow.namespace for flow in report.flows} == {"zoomcamp"}


def test_there_is_no_04_gcp_kv_flow_because_kv_comes_from_ops_seed_kv():
    assert set(flows()) == FLOW_IDS
    assert not any("kv.Set" in task["type"] for flow in flows().values() for task in tasks(flow))


@pytest.mark.parametrize("flow_id", sorted(FLOW_IDS))
def test_flows_carry_no_connection_hostname_or_plugin_defaults(flow_id):
    flow = flows()[flow_id]
    source = (NAMESPACE_DIR / f"{flow_id}.yaml").read_text()
    assert "pluginDefaults" not in flow and "taskDefaults" not in flow
    for task in tasks(flow):
        allowed = {"url"} if task["type"] == "io.kestra.plugin.git.Clone" else set()
        assert CONNECTION_KEYS.isdisjoint(set(task) - allowed), task["id"]
        if allowed:
            assert task["url"].startswith("https://github.com/")  # a public repository, not a connection
    for environment in ("jdbc:", "localhost", "127.0.0.1", "host.docker.internal", "taxi-postgres", "k3str4"):
        assert environment not in source
    # the bulk flows endpoint splits its body on '---'
    assert "---" not in source


@pytest.mark.parametrize("flow_id", sorted(FLOW_IDS))
def test_flows_use_kestra_1_plugin_types(flow_id):
    for task in tasks(flows()[flow_id]):
        assert task["type"].startswith("io.kestra.plugin."), task["type"]
        assert not task["type"].startswith("io.kestra.core.tasks"), task["type"]


@pytest.mark.parametrize("flow_id", ["02_postgres_taxi_scheduled", "06_gcp_taxi_scheduled"])
def test_scheduled_flows_run_green_at_9_and_yellow_at_10_new_york_time(flow_id):
    triggers = {t["id"]: t for t in flows()[flow_id]["triggers"]}
    assert set(triggers) == {"green_schedule", "yellow_schedule"}
    for trigger_id, cron, taxi in (("green_schedule", "0 9 1 * *", "green"), ("yellow_schedule", "0 10 1 * *", "yellow")):
        trigger = triggers[trigger_id]
        assert trigger["type"] == "io.kestra.plugin.core.trigger.Schedule"
        assert (trigger["cron"], trigger["timezone"], trigger["inputs"]) == (cron, "America/New_York", {"taxi": taxi})


@pytest.mark.parametrize("flow_id", ["02_postgres_taxi_scheduled", "06_gcp_taxi_scheduled"])
def test_scheduled_flows_delegate_the_month_to_the_manual_flow(flow_id):
    (subflow,) = [t for t in tasks(flows()[flow_id]) if t["type"] == "io.kestra.plugin.core.flow.Subflow"]
    assert subflow["flowId"] == flow_id.removesuffix("_scheduled")
    assert subflow["wait"] is True and subflow["transmitFailed"] is True


def test_jdbc_query_tasks_hold_one_statement_and_queries_hold_the_rest():
    for flow in flows().values():
        for task in tasks(flow):
            if task["type"] == "io.kestra.plugin.jdbc.postgresql.Query":
                # a namespace file the task reads by a literal path counts with its statements
                sql = re.sub(r"read\('([^']+)'\)", lambda m: (NAMESPACE_DIR / "files" / m[1]).read_text(), task["sql"])
                assert len(split_statements(sql)) == 1, task["id"]


@pytest.mark.parametrize("sql_file", SQL_FILES, ids=lambda path: path.name)
def test_sql_files_split_into_statements_the_way_kestra_splits_them(sql_file: Path):
    text = sql_file.read_text()
    for comment in re.findall(r"--.*", text):  # whole-line and trailing comments
        assert ";" not in comment, f"{sql_file.name}: {comment}"
    assert "?" not in text  # Kestra prepares each statement: '?' would be a JDBC parameter
    assert "$$" not in text  # a function body would be cut at its first ';'
    if "bigquery" in sql_file.parts:
        assert len(split_statements(text)) == 1  # one BigQuery job per task


@pytest.mark.parametrize("taxi", ["green", "yellow"])
def test_postgres_and_bigquery_hash_the_same_fields_in_file_order(taxi):
    postgres = (NAMESPACE_DIR / "files/taxi/postgres" / f"{taxi}_merge.sql").read_text()
    bigquery = (NAMESPACE_DIR / "files/taxi/bigquery" / f"{taxi}_merge.sql").read_text()
    expected = list(COLUMNS[taxi])
    assert re.findall(r"coalesce\((\w+), ''\)", postgres) == expected
    assert re.findall(r"COALESCE\(S\.(\w+), ''\)", bigquery) == expected


def gcp_context(flow: dict[str, Any], inputs: dict[str, str]) -> Context:
    return Context(
        inputs=inputs, variables=flow["variables"], execution_id="GcpRun42X", namespace="zoomcamp",
        namespace_files=NAMESPACE_DIR / "files",
        kv={"GCP_PROJECT_ID": "demo-project", "GCP_DATASET": "zoomcamp", "GCP_BUCKET_NAME": "demo-bucket",
            "GCP_LOCATION": "EU"},
        outputs={"extract": {"outputFiles": {"yellow_tripdata_2020-03.csv": "kestra:///x.csv"}}},
        trigger_date=dt.datetime(2020, 3, 1, 10),
    )


def test_gcp_taxi_sql_renders_to_the_months_tables_and_files():
    flow = flows()["06_gcp_taxi"]
    context = gcp_context(flow, {"taxi": "yellow", "year": "2020", "month": "03"})
    renderer = Renderer()
    rendered = {task["id"]: renderer.render(task["sql"], context) for task in tasks(flow) if "sql" in task}

    assert "CREATE TABLE IF NOT EXISTS `demo-project.zoomcamp.yellow_tripdata`" in rendered["create_table"]
    assert "PARTITION BY DATE(tpep_pickup_datetime)" in rendered["create_table"]
    assert "uris = ['gs://demo-bucket/yellow_tripdata_2020-03.csv']" in rendered["create_external_table"]
    external = "demo-project.zoomcamp.yellow_tripdata_2020_03_ext_gcprun42x"
    assert f"CREATE OR REPLACE EXTERNAL TABLE `{external}`" in rendered["create_external_table"]
    assert f"FROM `{external}`" in rendered["merge"]
    assert "'yellow_tripdata_2020-03.csv' AS filename" in rendered["merge"]
    assert rendered["drop_external_table"] == f"DROP EXTERNAL TABLE IF EXISTS `{external}`"
    upload = next(task for task in tasks(flow) if task["id"] == "upload_to_gcs")
    assert renderer.render(upload["to"], context) == "gs://demo-bucket/yellow_tripdata_2020-03.csv"
    assert renderer.render(upload["from"], context) == "kestra:///x.csv"


def test_flow_input_types_are_kestra_input_types_and_not_the_deprecated_boolean():
    spec = yaml.load(SPEC_FILE.read_text(), Loader=yaml.CSafeLoader)  # libyaml: 0.1 s, not 1.5 s
    known = set(spec["components"]["schemas"]["Type"]["enum"])
    for flow_id, flow in flows().items():
        for item in flow.get("inputs", []):
            assert item["type"] in known, f"{flow_id}: {item['id']}"
            assert item["type"] != "BOOLEAN", f"{flow_id}: {item['id']} (use BOOL)"
