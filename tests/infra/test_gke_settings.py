"""parse_settings for the gke target: the committed stack parses; each refusal is one line naming its key."""

from __future__ import annotations

import pytest

from infra.gke.settings import RESERVED_CONNECTIONS, connections_needed, sql_max_connections
from infra.settings import ConfigError, parse_settings
from tests.infra.raw_config import raw_config


def gke_config(**overrides: str) -> dict[str, str]:
    return raw_config("gke", **overrides)


def refusal(key: str, **overrides: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_settings(gke_config(**overrides))
    message = str(caught.value)
    assert caught.value.key == key and message.startswith(f"kestra-stack:{key}: "), message
    assert "\n" not in message
    return message


def test_committed_gke_stack_parses_to_a_standard_cluster_with_gcs_storage():
    settings = parse_settings(gke_config())
    gke = settings.gke
    assert settings.target == "gke" and settings.vm is None and gke is not None
    assert (gke.mode, gke.location, gke.min_nodes, gke.max_nodes) == ("standard", "us-central1-a", 1, 3)
    assert dict(gke.kestra_pods) == {"webserver": 2, "executor": 1, "scheduler": 1, "worker": 2}
    assert settings.kestra_storage == "gcs" and settings.bucket_name == "replace-with-your-project-zoomcamp"
    assert settings.protect_data is True


def test_autopilot_is_regional():
    gke = parse_settings(gke_config(gkeMode="autopilot")).gke
    assert gke.location == "us-central1"


@pytest.mark.parametrize(("key", "overrides", "fragment"), [
    ("gkeMode", {"gkeMode": "kind"}, "must be one of standard, autopilot"),
    ("gkeZone", {"gkeZone": "europe-west1-b"}, "is not in kestra-stack:gcpRegion"),
    ("gkeZone", {"gkeZone": "central"}, "is not a Compute Engine zone"),
    ("gkeMachineType", {"gkeMachineType": "big one"}, "is not a machine type"),
    ("gkeMinNodes", {"gkeMinNodes": "0"}, "must be between 1 and 100"),
    ("gkeMaxNodes", {"gkeMinNodes": "3", "gkeMaxNodes": "2"}, "at least kestra-stack:gkeMinNodes (3)"),
    ("gkeWebservers", {"gkeWebservers": "two"}, "must be an integer"),
    ("gkeWorkers", {"gkeWorkers": "0"}, "must be between 1 and 50"),
    ("gkeWorkerThreads", {"gkeWorkerThreads": "0"}, "must be between 1 and 256"),
    ("gkeSqlTier", {"gkeSqlTier": "db-perf-optimized-N-2"}, "is not a Cloud SQL Enterprise tier"),
    ("gkePortForwardPort", {"gkePortForwardPort": "70000"}, "must be between 1 and 65535"),
    ("gcpProject", {"gcpProject": ""}, "is required for the gke target"),
])
def test_invalid_gke_config_is_refused_naming_the_key(key, overrides, fragment):
    assert fragment in refusal(key, **overrides)


@pytest.mark.parametrize("key", ["gkeExecutors", "gkeSchedulers"])
def test_more_than_one_executor_or_scheduler_is_refused_citing_the_duplicate_execution_issue(key):
    message = refusal(key, **{key: "2"})
    assert "must be 1" in message and "kestra-io/kestra#14196" in message


def test_docker_task_runner_is_refused_on_autopilot_with_the_reason():
    message = refusal("enableDockerTaskRunner", gkeMode="autopilot", enableDockerTaskRunner="true")
    assert "privileged" in message
    assert parse_settings(gke_config(enableDockerTaskRunner="true")).enable_docker_task_runner is True


def test_connection_limits_follow_cloud_sql_memory_tiers():
    assert sql_max_connections("db-f1-micro") == 25
    assert sql_max_connections("db-g1-small") == 50
    assert sql_max_connections("db-custom-1-3840") == 100
    assert sql_max_connections("db-custom-2-7680") == 400
    assert sql_max_connections("db-custom-4-15360") == 500
    assert sql_max_connections("db-n1-standard-1") is None


def test_connections_count_every_pool_during_a_rolling_update_and_one_per_worker_thread():
    gke = parse_settings(gke_config()).gke
    # webservers 2 (+1 surge), executor 1, scheduler 1 (recreated, no surge), workers 2 (+1 surge)
    assert connections_needed(gke) == 8 * 8 + 3 * 4 + RESERVED_CONNECTIONS


def test_pools_that_do_not_fit_the_tier_are_refused_naming_the_pool_size():
    message = refusal("gkeDbPoolSize", gkeDbPoolSize="12")
    assert "db-custom-1-3840 allows 100" in message and "during a rolling update" in message
    parse_settings(gke_config(gkeDbPoolSize="12", gkeSqlTier="db-custom-2-7680"))  # a bigger tier fits
    assert "db-f1-micro allows 25" in refusal("gkeDbPoolSize", gkeSqlTier="db-f1-micro")
