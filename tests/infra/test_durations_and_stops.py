"""Durations in the plans are written as the Docker provider reads them back (Go's Duration.String()),
so a preview shows no perpetual diff; containers that keep state are stopped gracefully, on Docker and on
the VM, with stop timeouts that cover Kestra's own termination grace."""

from __future__ import annotations

import re

import pytest
import yaml

from infra.offline import OfflinePlan
from infra.services import SECRETS, build_service_set
from infra.settings import parse_settings
from tests.infra.kestra_files import merged_configuration
from tests.infra.raw_config import raw_config
from tests.infra.vm_plan import metadata

CONTAINER = "docker:index/container:Container"
GO_UNITS_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
               "m": 60_000_000_000, "h": 3_600_000_000_000}
GRACEFUL = ("kestra", "kestra-postgres", "taxi-postgres")


def parse_go_duration(text: str) -> int:
    """Go's time.ParseDuration for what the plans hold: a sequence of <integer><unit>, in nanoseconds."""
    parts = re.findall(r"(\d+)(ns|us|µs|ms|s|m|h)", text)
    assert parts and "".join(number + unit for number, unit in parts) == text, f"not a Go duration: {text!r}"
    return sum(int(number) * GO_UNITS_NS[unit] for number, unit in parts)


def go_duration_string(nanoseconds: int) -> str:
    """Go's time.Duration.String() (src/time/time.go), for whole non-negative durations."""
    if nanoseconds == 0:
        return "0s"
    if nanoseconds < GO_UNITS_NS["s"]:
        for unit in ("ms", "µs", "ns"):
            if nanoseconds >= GO_UNITS_NS[unit]:
                whole, rest = divmod(nanoseconds, GO_UNITS_NS[unit])
                fraction = f"{rest:0{len(str(GO_UNITS_NS[unit])) - 1}d}".rstrip("0") if rest else ""
                return f"{whole}{'.' + fraction if fraction else ''}{unit}"
    seconds, rest = divmod(nanoseconds, GO_UNITS_NS["s"])
    fraction = f"{rest:09d}".rstrip("0") if rest else ""
    text = f"{seconds % 60}{'.' + fraction if fraction else ''}s"
    minutes = seconds // 60
    if minutes:
        text = f"{minutes % 60}m{text}"
        if minutes // 60:
            text = f"{minutes // 60}h{text}"
    return text


def test_the_go_formatter_matches_gos_own_examples():
    assert [go_duration_string(parse_go_duration(text)) for text in ("60s", "90s", "3600s", "5s", "0s")] == [
        "1m0s", "1m30s", "1h0m0s", "5s", "0s"]
    assert go_duration_string(1_500_000) == "1.5ms"


def docker_durations(plan: OfflinePlan) -> list[tuple[str, str]]:
    found = []
    for container in plan.of_type(CONTAINER):
        check = container.inputs.get("healthcheck", {})  # none for the run-once storage-owner step
        found += [(f"{container.name} healthcheck.{key}", check[key])
                  for key in ("interval", "timeout", "startPeriod", "startInterval") if key in check]
    return found


def compose_durations(plan: OfflinePlan) -> list[tuple[str, str]]:
    compose = yaml.safe_load(metadata(plan)["kestra-compose"])
    found = []
    for name, service in compose["services"].items():
        found += [(f"{name} healthcheck.{key}", value) for key, value in service.get("healthcheck", {}).items()
                  if key in ("interval", "timeout", "start_period", "start_interval")]
        if "stop_grace_period" in service:
            found.append((f"{name} stop_grace_period", service["stop_grace_period"]))
    return found


@pytest.mark.parametrize("fixture", ["dev_plan", "dev_gcp_plan", "prod_plan"])
def test_every_duration_in_the_plan_round_trips_through_gos_formatter(request, fixture):
    plan = request.getfixturevalue(fixture)
    durations = docker_durations(plan) if fixture.startswith("dev") else compose_durations(plan)
    assert len(durations) >= 12  # four services, three healthcheck durations each
    for where, text in durations:
        assert go_duration_string(parse_go_duration(text)) == text, where


def kestra_grace_s() -> int:
    kestra = build_service_set(parse_settings(raw_config())).service("kestra")
    values = dict.fromkeys(SECRETS, "x")
    config = merged_configuration(yaml.safe_load(kestra.files[0].content),
                                  yaml.safe_load(kestra.secret_files[0].content(values)))
    grace = config["kestra"]["server"]["termination-grace-period"]
    # Micronaut reads one number and a unit (micronaut-core TimeConverterRegistrar), not "1m0s".
    number, unit = re.fullmatch(r"(\d+)([smh])", grace).groups()
    return int(number) * {"s": 1, "m": 60, "h": 3600}[unit]


def test_docker_stops_postgres_and_kestra_gracefully_and_longer_than_kestras_own_grace(dev_plan):
    grace = {c.name.removeprefix("local-"): (c.inputs.get("destroyGraceSeconds"), c.inputs.get("stopTimeout"))
             for c in dev_plan.of_type(CONTAINER)}
    for name in GRACEFUL:
        destroy, stop = grace[name]
        assert destroy and destroy == stop, name  # unset, the provider stops with timeout 0: a kill
    assert grace["kestra"][0] > kestra_grace_s()
    for container in dev_plan.of_type(CONTAINER):  # the postgres image's STOPSIGNAL SIGINT applies
        assert "stopSignal" not in container.inputs, container.name


def test_the_vm_stops_them_with_the_same_grace(dev_plan, prod_plan):
    services = yaml.safe_load(metadata(prod_plan)["kestra-compose"])["services"]
    for name in GRACEFUL:
        [container] = [c for c in dev_plan.of_type(CONTAINER) if c.name == f"local-{name}"]
        seconds = parse_go_duration(services[name]["stop_grace_period"]) // GO_UNITS_NS["s"]
        assert seconds == container.inputs["destroyGraceSeconds"], name
        assert "stop_signal" not in services[name]
