"""The test-side renderer knows exactly the expressions the flows use and refuses everything else."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.flows.flow_runner import FLOWS_DIR
from tests.flows.pebble import Context, Renderer, Undefined, UnknownExpression


@pytest.fixture
def context() -> Context:
    return Context(
        inputs={"taxi": "green", "year": "2019", "month": "01", "reload": False},
        variables={"file": "{{ inputs.taxi }}_tripdata_{{ inputs.year }}-{{ inputs.month }}.csv"},
        execution_id="7AbCdEf",
        namespace="zoomcamp",
        namespace_files=FLOWS_DIR / "zoomcamp" / "files",
        kv={"GCP_DATASET": "zoomcamp"},
        outputs={"check_loaded": {"row": {"loaded": True}}},
        trigger_date=dt.datetime(2019, 3, 1, 9, 0),
    )


def render(template: str, context: Context) -> str:
    return Renderer().render(template, context)


@pytest.mark.parametrize(("template", "expected"), [
    ("{{ render(vars.file) }}", "green_tripdata_2019-01.csv"),
    ("x_{{ execution.id | lower }}", "x_7abcdef"),
    ("{{ trigger.date | date('yyyy') }}-{{ trigger.date | date('MM') }}", "2019-03"),
    ("{{ kv('TAXI_DATA_BASE_URL', errorOnMissing=false) ?? 'https://default' }}", "https://default"),
    ("{{ kv('GCP_DATASET') }}", "zoomcamp"),
    ("{{ inputs.reload or not outputs.check_loaded.row.loaded }}", "false"),
    ("{{ 'a' ~ inputs.taxi ~ 'b' }}", "agreenb"),
    ("{{ inputs.taxi == 'green' }}", "true"),
    ("{{ flow.namespace }}", "zoomcamp"),
    ("{{ (inputs.taxi ?? 'x') ~ '!' }}", "green!"),
    ("{{ (inputs.missing ?? inputs.taxi) ~ '!' }}", "green!"),
    ('echo "::{\\"outputs\\":{\\"taxi\\":\\"{{ inputs.taxi }}\\"}}::"', 'echo "::{\\"outputs\\":{\\"taxi\\":\\"green\\"}}::"'),
])
def test_the_expressions_the_flows_use_render(context, template, expected):
    assert render(template, context) == expected


def test_read_returns_a_namespace_file(context):
    assert "CREATE UNLOGGED TABLE" in render("{{ read('taxi/postgres/' ~ inputs.taxi ~ '_prepare.sql') }}", context)


@pytest.mark.parametrize("template", [
    "{{ secret('TAXI_POSTGRES_PASSWORD') }}",       # unknown function
    "{{ now() }}",
    "{{ inputs.taxi | upper }}",                     # unknown filter
    "{{ trigger.date | date('yyyy-MM-dd EEE') }}",   # unknown date pattern letters
    "{{ labels.taxi }}",                             # unknown root variable
    "{% if true %}x{% endif %}",                     # tags
    "{{ inputs.taxi + 1 }}",                         # unknown operator
    "{{ inputs.taxi }",
    "{{ inputs.taxi }} and {{ inputs.year",        # an opening never closed
])
def test_anything_else_fails_loudly(context, template):
    with pytest.raises(UnknownExpression):
        render(template, context)


def test_an_undefined_value_fails_unless_coalesced(context):
    with pytest.raises(Undefined):
        render("{{ inputs.missing }}", context)
    with pytest.raises(KeyError):
        render("{{ kv('NOT_SET') }}", context)
    assert render("{{ inputs.missing ?? 'fallback' }}", context) == "fallback"


def test_a_missing_namespace_file_fails(context):
    with pytest.raises(FileNotFoundError):
        render("{{ read('taxi/postgres/purple_prepare.sql') }}", context)


@pytest.mark.parametrize(("template", "expected"), [
    ("{{ not 'false' }}", "false"),   # a non-empty string is true in Pebble, whatever it says
    ("{{ not '' }}", "true"),
    ("{{ not 0 }}", "true"),
    ("{{ inputs.reload or 'x' }}", "true"),
])
def test_booleans_follow_pebble_truthiness(context, template, expected):
    assert render(template, context) == expected


def test_null_used_as_a_boolean_fails_as_in_strict_pebble(context):
    with pytest.raises(UnknownExpression):
        render("{{ not null }}", context)
    with pytest.raises(UnknownExpression):
        render("{{ kv('NOT_SET', errorOnMissing=false) or true }}", context)
