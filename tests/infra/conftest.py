"""Plans of the real program under Pulumi's mocks, computed once per session (importing pulumi_gcp
and running the program cost most of the infra suite's time)."""

from __future__ import annotations

import pytest

from infra.offline import OfflinePlan, plan_stack
from tests.infra.raw_config import GCP_PROJECT


@pytest.fixture(scope="session")
def dev_plan() -> OfflinePlan:
    """Pulumi.dev.yaml as committed: local Docker, no data lake."""
    return plan_stack("dev")


@pytest.fixture(scope="session")
def dev_task_runner_plan() -> OfflinePlan:
    """The dev stack with the Docker task runner: Kestra as root with the engine's socket."""
    return plan_stack("dev", config={"enableDockerTaskRunner": "true"})


@pytest.fixture(scope="session")
def dev_gcp_plan() -> OfflinePlan:
    """The dev stack with a GCP project configured: Docker plus the data lake."""
    return plan_stack("dev", config={"gcpProject": GCP_PROJECT})


@pytest.fixture(scope="session")
def prod_plan() -> OfflinePlan:
    """Pulumi.prod.yaml as committed: the VM target."""
    return plan_stack("prod")


@pytest.fixture(scope="session")
def gke_plan() -> OfflinePlan:
    """Pulumi.gke.yaml as committed: Kestra's Helm chart on GKE with Cloud SQL."""
    return plan_stack("gke")


@pytest.fixture(scope="session")
def gke_docker_plan() -> OfflinePlan:
    """The gke stack with the Docker task runner (Docker-in-Docker on the workers)."""
    return plan_stack("gke", config={"enableDockerTaskRunner": "true"})
