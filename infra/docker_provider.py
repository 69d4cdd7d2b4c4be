"""The docker target's one explicit docker provider, from infra.docker_engine's arguments."""

from __future__ import annotations

import pulumi
import pulumi_docker as docker

from infra.docker_engine import SECRET_ARGUMENTS, DockerEngine


def docker_provider(name: str, engine: DockerEngine) -> docker.Provider:
    args = {key: pulumi.Output.secret(value) if key in SECRET_ARGUMENTS else value
            for key, value in engine.provider_args.items()}
    return docker.Provider(name, **args)
