"""What the Docker engine does with the docker target's containers, beyond what Pulumi's mocks check:
who can read an uploaded file, a replacement under a fixed name, the socket the Docker task runner
mounts."""

from __future__ import annotations

import pytest

from infra.docker_engine import DockerEngine, daemon_socket
from infra.offline import OfflinePlan, plan_stack
from infra.services import DOCKER_SOCKET

CONTAINER = "docker:index/container:Container"
NAMED = (CONTAINER, "docker:index/network:Network")
ROOTLESS_HOST = "unix:///run/user/1000/docker.sock"


def test_every_upload_is_readable_by_its_reader_although_the_provider_may_write_it_as_root(
        dev_plan, dev_task_runner_plan):
    """kreuzwerker/terraform-provider-docker v4.5.0 (resource_docker_container_funcs.go, the upload's
    tar.Header) sets only Name, Mode, Size and ModTime, so the engine writes the file as uid 0 gid 0
    (CopyToContainer without copyUIDGID keeps the header's ids). `owner` came later (pulumi-docker
    5.2.0's schema) and its implementation could not be read offline: a non-root reader must be able to
    read a root-owned file."""
    for plan in (dev_plan, dev_task_runner_plan):
        for container in plan.of_type(CONTAINER):
            for upload in container.inputs.get("uploads", []):
                reader, mode = int(upload.get("owner") or 0), int(upload["permissions"], 8)
                assert reader == 0 or mode & 0o004, (plan.stack, container.name, upload["file"],
                                                     upload["permissions"])


def test_no_upload_is_writable_by_anyone_but_root(dev_plan, dev_task_runner_plan):
    for plan in (dev_plan, dev_task_runner_plan):
        for container in plan.of_type(CONTAINER):
            for upload in container.inputs.get("uploads", []):
                assert not int(upload["permissions"], 8) & 0o022, (container.name, upload["file"])


def test_every_resource_with_a_fixed_name_is_deleted_before_it_is_replaced(dev_plan, dev_task_runner_plan):
    """Pulumi creates a replacement before deleting the old resource unless deleteBeforeReplace; the
    engine refuses a second container (network) of the same name ("is already in use")."""
    named = [resource for plan in (dev_plan, dev_task_runner_plan) for resource in plan.resources
             if resource.type in NAMED and resource.inputs.get("name")]
    assert {resource.type for resource in named} == set(NAMED)
    assert [resource.name for resource in named if not resource.delete_before_replace] == []


def _socket_mount(plan: OfflinePlan) -> dict:
    [mount] = [volume for volume in plan.named("local-kestra").inputs["volumes"]
               if volume.get("containerPath") == DOCKER_SOCKET]
    return mount


@pytest.mark.parametrize(("host", "source"), [
    # Rootless Docker (dockerd-rootless.sh): its socket is $XDG_RUNTIME_DIR/docker.sock and the daemon
    # runs on this machine, so that is the path it bind-mounts.
    (ROOTLESS_HOST, "/run/user/1000/docker.sock"),
    # Colima, Docker Desktop: the CLI's socket is forwarded into a VM whose daemon has its own
    # /var/run/docker.sock, which is the path a bind mount names there.
    ("unix:///home/me/.colima/default/docker.sock", DOCKER_SOCKET),
    ("unix:///var/run/docker.sock", DOCKER_SOCKET),
    ("tcp://10.0.0.5:2376", DOCKER_SOCKET),
])
def test_the_docker_task_runner_mounts_the_socket_of_the_engine_it_runs_on(host, source):
    plan = plan_stack("dev", config={"enableDockerTaskRunner": "true"}, provider_config={"docker:host": host})
    assert _socket_mount(plan)["hostPath"] == source


def test_the_docker_task_runner_mounts_the_rootless_socket_named_by_docker_host(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", ROOTLESS_HOST)
    plan = plan_stack("dev", config={"enableDockerTaskRunner": "true"})
    assert _socket_mount(plan)["hostPath"] == "/run/user/1000/docker.sock"


def test_a_socket_in_the_users_runtime_directory_is_the_daemons_own_wherever_that_directory_is():
    engine = DockerEngine({"host": "unix:///tmp/runtime-me/docker.sock"})
    assert daemon_socket(engine, {"XDG_RUNTIME_DIR": "/tmp/runtime-me/"}) == "/tmp/runtime-me/docker.sock"
    assert daemon_socket(engine, {}) == DOCKER_SOCKET


def test_a_run_once_step_that_fails_stops_up_before_its_dependants_naming_it():
    """The provider waits for an attached container and records its exit code, but does not fail on it
    (kreuzwerker v4.5.0 resource_docker_container_funcs.go: ContainerWait's result is dropped,
    exit_code read from State.ExitCode): without a check Kestra would start on a storage it cannot
    write."""
    with pytest.raises(Exception, match="kestra-storage-owner exited with code 1") as failure:
        plan_stack("dev", exit_codes={"local-kestra-storage-owner": 1})
    assert "docker logs kestra-stack-dev-kestra-storage-owner" in str(failure.value)
    assert "--replace" in str(failure.value)


def test_a_run_once_step_that_succeeds_lets_its_dependants_be_created(dev_plan):
    assert dev_plan.named("local-kestra").inputs["image"] == dev_plan.named("local-kestra-storage-owner").inputs["image"]
