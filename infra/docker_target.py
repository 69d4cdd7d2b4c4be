"""The Docker target: the service set rendered as pulumi-docker resources on the local engine."""

from __future__ import annotations

import re
from collections.abc import Mapping

import pulumi
import pulumi_docker as docker

from infra.durations import go_duration
from infra.services import (
    DOCKER_SOCKET,
    KESTRA,
    PGADMIN,
    ROOT_UID,
    TAXI_POSTGRES,
    Service,
    fill_placeholders,
)
from infra.targets import Endpoints, TargetArgs, secret_file_content

# Kestra needs about a minute on first start (migrations); the engine waits for "healthy".
WAIT_TIMEOUT_S = {KESTRA: 300}
DEFAULT_WAIT_TIMEOUT_S = 120
LOOPBACK_OR_ANY = {"127.0.0.1", "0.0.0.0", "::", "::1"}


def url_host(bind_address: str) -> str:
    """The host a browser on this machine uses to reach a port bound to `bind_address`."""
    if bind_address in LOOPBACK_OR_ANY:
        return "localhost"
    return f"[{bind_address}]" if ":" in bind_address else bind_address


def upload_mode(mode: int, reader: int | None) -> str:
    """The permissions of a file uploaded for `reader` (a uid; None: root). The provider may write every
    upload as uid 0 gid 0 whatever `owner` says: kreuzwerker/terraform-provider-docker v4.5.0
    (resource_docker_container_funcs.go) builds the upload's tar header from name, mode, size and
    time only, and the engine keeps the header's ids (CopyToContainer without copyUIDGID). `owner`
    appeared later, in a version not readable offline. So a non-root reader also gets read access as
    "other": inside its container, whose processes are all the service's own (pgAdmin as 5050, Kestra
    as 1000). The VM target writes the files with their owner and mode as given."""
    if reader in (None, ROOT_UID) or not mode & 0o400:
        return f"{mode:04o}"
    return f"{mode | 0o004:04o}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _filled(text: str, secrets: Mapping[str, pulumi.Output[str]]) -> pulumi.Output[str] | str:
    """`text` with its placeholders replaced; a secret Output when it carried any."""
    if "${" not in text:
        return text
    return pulumi.Output.secret(
        pulumi.Output.all(**secrets).apply(lambda values: fill_placeholders(text, values)))


def _succeeded(container: docker.Container, service: str) -> pulumi.Output[int]:
    """The attached container's exit code, or an error ending `up` when it is not 0: the provider waits
    for an attached container to stop and records its exit code without failing on it
    (kreuzwerker/terraform-provider-docker v4.5.0 resource_docker_container_funcs.go: ContainerWait's
    status is dropped, exit_code read from State.ExitCode). Kept in the state, the code fails every
    later `up` too until the step is run again."""
    def check(values: list) -> int:
        code, container_name, urn = values
        if code not in (None, 0):  # None: not run yet (a preview)
            raise pulumi.RunError(
                f"{service} exited with code {code}: `docker logs {container_name}` says why; fix it, then "
                f"`pulumi up --replace '{urn}'` runs it again")
        return code
    return pulumi.Output.all(container.exit_code, container.name, container.urn).apply(check)


class DockerTarget(pulumi.ComponentResource):
    endpoints: Endpoints

    def __init__(self, name: str, args: TargetArgs, docker_socket: str,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        """`docker_socket`: the engine's socket on the daemon's machine, which the Docker task runner
        mounts into Kestra in place of the service set's /var/run/docker.sock."""
        super().__init__("kestra-stack:docker_target:DockerTarget", name, None, opts)
        self._docker_socket = docker_socket
        settings = args.settings
        prefix = f"kestra-stack-{_slug(pulumi.get_stack())}"
        child = pulumi.ResourceOptions(parent=self)
        # A container or network keeps its fixed name, and the engine refuses a second one of that name
        # ("is already in use"): the old one goes first when a change replaces it (Pulumi's default
        # creates the replacement first).
        named = pulumi.ResourceOptions(parent=self, delete_before_replace=True)

        network = docker.Network(f"{name}-network", name=f"{prefix}-net", driver="bridge", opts=named)
        # With protectData the volumes outlive `pulumi destroy`; the next `up` adopts them by name.
        volume_opts = pulumi.ResourceOptions(parent=self, retain_on_delete=settings.protect_data)
        volumes = {
            volume: docker.Volume(f"{name}-volume-{volume}", name=f"{prefix}-{volume}",
                                  opts=volume_opts)
            for volume in args.services.volumes
        }
        images: dict[str, docker.RemoteImage] = {}
        for service in args.services.services:
            if service.image not in images:
                images[service.image] = docker.RemoteImage(
                    f"{name}-image-{_slug(service.image)}", name=service.image, keep_locally=True,
                    opts=child)

        containers: dict[str, docker.Container] = {}
        succeeded: dict[str, pulumi.Output[int]] = {}  # run-once service -> its exit code, once it is 0
        for service in args.services.services:  # listed dependencies first
            # A dependant's image input waits for its run-once steps to have succeeded.
            image = pulumi.Output.all(images[service.image].image_id,
                                      *[succeeded[dep] for dep in service.depends_on if dep in succeeded])
            containers[service.name] = self._container(
                name, prefix, service, args, network, volumes, image.apply(lambda values: values[0]),
                depends_on=[containers[dependency] for dependency in service.depends_on])
            if service.run_once:
                succeeded[service.name] = _succeeded(containers[service.name], service.name)

        host = url_host(settings.bind_address)
        self.endpoints = Endpoints(
            kestra_url=f"http://{host}:{settings.ports.kestra}",
            pgadmin_url=f"http://{host}:{settings.ports.pgadmin}",
            postgres_host=host,
            postgres_port=settings.ports.postgres,
            docker_network=network.name,
        )
        self.register_outputs({
            "kestra_container": containers[KESTRA].name,
            "pgadmin_container": containers[PGADMIN].name,
            "taxi_postgres_container": containers[TAXI_POSTGRES].name,
        })

    def _container(self, name: str, prefix: str, service: Service, args: TargetArgs,
                   network: docker.Network, volumes: Mapping[str, docker.Volume],
                   image: pulumi.Output[str], depends_on: list[docker.Container]) -> docker.Container:
        check = service.healthcheck
        envs = [_filled(f"{key}={value}", args.secrets) for key, value in service.environment.items()]
        return docker.Container(
            f"{name}-{service.name}",
            name=f"{prefix}-{service.name}",
            image=image,
            entrypoints=list(service.entrypoint) or None,
            command=list(service.command) or None,
            envs=envs,
            user=service.user,
            restart=service.restart,
            shm_size=service.shm_size_mb,
            networks_advanced=[docker.ContainerNetworksAdvancedArgs(
                name=network.name, aliases=[service.name])],
            ports=[docker.ContainerPortArgs(internal=port.container_port, external=port.host_port,
                                            ip=port.host_ip)
                   for port in service.ports],
            volumes=[docker.ContainerVolumeArgs(volume_name=volumes[mount.volume].name,
                                                container_path=mount.target)
                     for mount in service.volumes]
                    + [docker.ContainerVolumeArgs(host_path=self._docker_socket if mount.source == DOCKER_SOCKET
                                                  else mount.source, container_path=mount.target,
                                                  read_only=mount.read_only)
                       for mount in service.bind_mounts],
            # Written into the container before it starts (kept in its writable layer, not its config).
            uploads=[docker.ContainerUploadArgs(
                file=upload.path, content=upload.content, permissions=upload_mode(upload.mode, upload.owner),
                owner=None if upload.owner is None else str(upload.owner),
            ) for upload in service.files] + [docker.ContainerUploadArgs(
                file=upload.path, content=secret_file_content(upload, args.secrets),
                permissions=upload_mode(upload.mode, upload.owner), owner=str(upload.owner),
            ) for upload in service.secret_files],
            healthcheck=None if check is None else docker.ContainerHealthcheckArgs(
                tests=list(check.test),
                interval=go_duration(check.interval_s),
                timeout=go_duration(check.timeout_s),
                retries=check.retries,
                start_period=go_duration(check.start_period_s),
            ),
            # Without destroy_grace_seconds the provider stops a container with timeout 0 (a kill) before
            # removing it (kreuzwerker/terraform-provider-docker resource_docker_container_funcs.go);
            # stop_timeout is what `docker stop` and the daemon's own shutdown give it.
            destroy_grace_seconds=service.stop_grace_s,
            stop_timeout=service.stop_grace_s,
            # A run-once service: created, run to its end (attach) before its dependents, then left
            # stopped (must_run false: no diff for an exited container).
            attach=service.run_once,
            must_run=not service.run_once,
            wait=not service.run_once,
            wait_timeout=WAIT_TIMEOUT_S.get(service.name, DEFAULT_WAIT_TIMEOUT_S),
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on, delete_before_replace=True),
        )
