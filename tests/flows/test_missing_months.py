"""What the load flows do with a month the source does not publish (the DataTalksClub releases end at
2021-07): a live schedule in 2026, a month after 2021-07, run through the flow runner. Such a month
ends the execution in WARNING through a task named `no_file` whose message names the file and its URL;
nothing is loaded and nothing fails. Any other download failure still fails the execution."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.flows.conftest import GCP_KV, GREEN_SAMPLE, files_by_url, month_url, scalar
from tests.flows.flow_runner import FlowRun, TaskFailed, load_flow

LAST_PUBLISHED = "2021-07"


def no_file_message(taxi: str, year: str, month: str) -> str:
    return (f"no file for {taxi} {year}-{month} at {month_url(taxi, year, month)} (HTTP 404): nothing loaded; "
            f"the DataTalksClub releases hold green and yellow from 2019-01 to {LAST_PUBLISHED}")


def unreachable(url: str):
    raise ConnectionError(url)


class GcpCalls:
    """Records the BigQuery and GCS tasks a GCP flow runs: (task id, rendered properties)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, str]]] = []

    def __call__(self, task_id: str, properties: dict[str, str]) -> None:
        self.calls.append((task_id, properties))

    @property
    def task_ids(self) -> list[str]:
        return [task_id for task_id, _ in self.calls]


def scheduled_run(flow_id: str, taxi: str, year: int, conninfo: dict, **options) -> FlowRun:
    """The taxi's trigger firing on January 1st of `year`, at its cron's hour (New York time)."""
    flow = load_flow(flow_id)
    trigger = next(t for t in flow["triggers"] if t["id"] == f"{taxi}_schedule")
    minute, hour, *_ = trigger["cron"].split()
    date = dt.datetime(year, 1, 1, int(hour), int(minute))
    return FlowRun(flow, trigger["inputs"], f"Missing{taxi}{date:%Y%m}", conninfo, trigger_date=date, **options)


@pytest.mark.postgres
@pytest.mark.parametrize("taxi", ["green", "yellow"])
def test_a_live_postgres_schedule_in_2026_ends_in_warning_naming_the_missing_file(clean_db, taxi):
    # the trigger of 2026-01-01: a month after the data ends, as every live run is
    run = scheduled_run("02_postgres_taxi_scheduled", taxi, 2026, clean_db,
                        fetch=files_by_url({month_url(taxi, "2026", "01"): None}))
    run.run()

    assert run.state == "WARNING"
    assert "load_month/no_file" in run.executed and "load_month/copy_in" not in run.executed
    assert run.errors == [no_file_message(taxi, "2026", "01")]
    assert scalar(clean_db, f"SELECT count(*) FROM {taxi}_tripdata") == 0
    assert scalar(clean_db, "SELECT count(*) FROM taxi_loads") == 0


@pytest.mark.postgres
def test_a_postgres_month_after_the_data_ends_is_a_warning_and_a_published_one_still_loads(clean_db):
    missing = FlowRun(load_flow("02_postgres_taxi"), {"taxi": "green", "year": "2021", "month": "08"}, "Missing1",
                      clean_db, files_by_url({month_url("green", "2021", "08"): None}))
    missing.run()
    published = FlowRun(load_flow("02_postgres_taxi"), {"taxi": "green", "year": "2020", "month": "10"}, "Present1",
                        clean_db, files_by_url({month_url("green", "2020", "10"): GREEN_SAMPLE}))
    published.run()

    assert (missing.state, missing.errors) == ("WARNING", [no_file_message("green", "2021", "08")])
    assert "no_file" in missing.executed and "drop_staging" in missing.executed
    assert (published.state, published.errors) == ("SUCCESS", [])
    assert scalar(clean_db, "SELECT count(*) FROM green_tripdata") == 300
    # a month without a file is not recorded as loaded: it loads once the file appears
    assert scalar(clean_db, "SELECT string_agg(filename, ',') FROM taxi_loads") == "green_tripdata_2020-10.csv"


@pytest.mark.parametrize("flow_id", [pytest.param("02_postgres_taxi", marks=pytest.mark.postgres), "06_gcp_taxi"])
def test_a_source_that_cannot_be_reached_fails_the_load_naming_the_url_and_wgets_exit_code(flow_id, request):
    # `wget -q` prints nothing when it cannot connect: the task's own line is all the user gets
    conninfo = request.getfixturevalue("clean_db") if flow_id == "02_postgres_taxi" else {}
    run = FlowRun(load_flow(flow_id), {"taxi": "green", "year": "2020", "month": "10"}, "Unreachable1", conninfo,
                  unreachable, kv=GCP_KV, gcp=GcpCalls())
    url = re.escape(month_url("green", "2020", "10"))
    with pytest.raises(TaskFailed, match=rf"extract.*\(4\): download of {url} failed: wget exit code 4 "):
        run.run()


@pytest.mark.parametrize("taxi", ["green", "yellow"])
def test_a_live_bigquery_schedule_in_2026_ends_in_warning_and_uploads_nothing(taxi):
    gcp = GcpCalls()
    run = scheduled_run("06_gcp_taxi_scheduled", taxi, 2026, {},
                        fetch=files_by_url({month_url(taxi, "2026", "01"): None}), gcp=gcp, kv=GCP_KV)
    run.run()

    assert run.state == "WARNING"
    assert run.errors == [no_file_message(taxi, "2026", "01")]
    assert "load_month/no_file" in run.executed
    # only the finally block's cleanup reaches BigQuery
    assert gcp.task_ids == ["drop_external_table"]


def test_a_bigquery_month_after_the_data_ends_is_a_warning_and_a_published_one_is_merged():
    missing_calls, published_calls = GcpCalls(), GcpCalls()
    missing = FlowRun(load_flow("06_gcp_taxi"), {"taxi": "yellow", "year": "2021", "month": "12"}, "Missing2", {},
                      files_by_url({month_url("yellow", "2021", "12"): None}), kv=GCP_KV, gcp=missing_calls)
    missing.run()
    published = FlowRun(load_flow("06_gcp_taxi"), {"taxi": "green", "year": "2020", "month": "10"}, "Present2", {},
                        files_by_url({month_url("green", "2020", "10"): GREEN_SAMPLE}), kv=GCP_KV, gcp=published_calls)
    published.run()

    assert (missing.state, missing.errors) == ("WARNING", [no_file_message("yellow", "2021", "12")])
    assert missing_calls.task_ids == ["drop_external_table"]
    assert published.state == "SUCCESS"
    assert published_calls.task_ids == ["upload_to_gcs", "create_table", "create_external_table", "merge",
                                        "drop_external_table"]
    upload = dict(published_calls.calls)["upload_to_gcs"]
    assert upload["to"] == "gs://bucket/green_tripdata_2020-10.csv"
    assert upload["from"].endswith("/green_tripdata_2020-10.csv")


@pytest.mark.parametrize("flow_id", ["02_postgres_taxi", "06_gcp_taxi"])
@pytest.mark.parametrize(("year", "accepted"), [("2026", True), ("2009", True), ("20x6", False), ("21", False)])
def test_the_year_input_takes_any_four_digit_year(flow_id, year, accepted):
    def build():
        return FlowRun(load_flow(flow_id), {"year": year}, "Year1", {}, files_by_url({}))

    if accepted:
        assert build().context.inputs["year"] == year
    else:
        with pytest.raises(ValueError, match="year"):
            build()
