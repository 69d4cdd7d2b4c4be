"""Data kept through `pulumi destroy` comes back with credentials that work (infra/credential_sync).

The whole cycle on both targets: plan a stack that keeps its data, initialise a real PostgreSQL data
directory the way the postgres image does with that plan's password, "destroy" (the data stays, the
passwords go), plan again (new passwords), run the start-up step the new plan hands the container on the
kept directory, and log in over TCP with what the new plan hands Kestra, pgAdmin and the stack outputs.
"""

from __future__ import annotations

import base64
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import yaml

from infra.credential_sync import pgadmin_step
from infra.offline import OfflinePlan, plan_stack
from infra.services import KESTRA_POSTGRES, TAXI_POSTGRES
from tests.conftest import PROJECT_ROOT, running_in_ci
from tests.infra.validators import compose_resolved, shellcheck
from tests.infra.vm_plan import listed_secrets, metadata
from tests.postgres_server import (
    SERVER_USER_AS_ROOT,
    PostgresMisconfigured,
    PostgresUnavailable,
    find_bindir,
    free_port,
    is_wheel,
    link_wheel_tree,
)

CONTAINER = "docker:index/container:Container"
STAND_IN = Path(__file__).parent / "postgres_entrypoint_stand_in.sh"
TARGETS = ("docker", "vm")


@dataclass(frozen=True)
class Handed:
    """What a plan hands one container: its entrypoint, command, environment and files."""

    entrypoint: list[str]
    command: list[str]
    env: dict[str, str]
    files: dict[str, str]

    def secret(self, name: str) -> str:
        """NAME from the environment, or the content of the file NAME_FILE names."""
        if name in self.env:
            return self.env[name]
        return self.files[self.env[f"{name}_FILE"]].rstrip("\n")


def docker_handed(plan: OfflinePlan, service: str) -> Handed:
    [container] = [c for c in plan.of_type(CONTAINER) if c.name == f"local-{service}"]
    inputs = container.inputs
    return Handed(inputs.get("entrypoints", []), inputs.get("command", []),
                  dict(entry.split("=", 1) for entry in inputs.get("envs", [])),
                  {upload["file"]: upload["content"] for upload in inputs.get("uploads", [])})


def vm_resolved(plan: OfflinePlan, workdir: Path) -> dict:
    """The VM's compose file as the real compose binary resolves it with the plan's Secret Manager values
    (env secrets through the env file), with each compose secret's content: the file the boot script
    writes from Secret Manager."""
    compose_file, env_file = workdir / "compose.yaml", workdir / "secrets.env"
    compose_file.write_text(metadata(plan)["kestra-compose"])
    listed = listed_secrets(plan)
    env_file.write_text("".join(f"{name}={secret.value}\n" for name, secret in listed.items()
                                if secret.kind == "env"))
    resolved = yaml.safe_load(compose_resolved(compose_file, env_file))
    resolved["secret_contents"] = {name: secret.value for name, secret in listed.items() if secret.kind == "file"}
    return resolved


def vm_handed(resolved: dict, service: str) -> Handed:
    rendered = resolved["services"][service]

    def literal(text: str) -> str:  # `config` prints each literal `$` escaped as `$$`
        return text.replace("$$", "$")

    files = {config["target"]: literal(resolved["configs"][config["source"]]["content"])
             for config in rendered.get("configs", [])}
    files |= {secret["target"]: resolved["secret_contents"][secret["source"]]
              for secret in rendered.get("secrets", [])}
    return Handed([literal(part) for part in rendered.get("entrypoint", [])],
                  [literal(part) for part in rendered.get("command", [])],
                  {key: literal(value) for key, value in rendered.get("environment", {}).items()}, files)


def kestra_configuration(handed: Handed) -> dict:
    """Kestra's configuration: the files MICRONAUT_CONFIG_FILES lists, later ones over earlier ones
    (maps merged, lists replaced, as Micronaut does)."""

    def merged(base: dict, over: dict) -> dict:
        return {**base, **{key: merged(base[key], value) if isinstance(value, dict)
                           and isinstance(base.get(key), dict) else value for key, value in over.items()}}

    configuration: dict = {}
    for path in handed.env["MICRONAUT_CONFIG_FILES"].split(","):
        configuration = merged(configuration, yaml.safe_load(handed.files[path]))
    return configuration


def kestra_datasource_password(handed: Handed) -> str:
    return kestra_configuration(handed)["datasources"]["postgres"]["password"]


def kestra_taxi_password(handed: Handed) -> str:
    """The taxi password as Kestra's flows get it: the JDBC plugin default and SECRET_* (base64)."""
    [jdbc] = [default for default in kestra_configuration(handed)["kestra"]["plugins"]["defaults"]
              if default["type"] == "io.kestra.plugin.jdbc.postgresql"]
    secret = base64.b64decode(handed.env["SECRET_TAXI_POSTGRES_PASSWORD"]).decode()
    assert jdbc["values"]["password"] == secret
    return secret


@dataclass(frozen=True)
class Cycle:
    """Two plans of one stack: before a `destroy` that kept the data, and the `up` after it."""

    target: str
    before: OfflinePlan
    after: OfflinePlan
    resolved: dict[str, dict]  # VM: "before" / "after" -> that plan's compose model as compose resolves it

    def handed(self, plan: OfflinePlan, service: str) -> Handed:
        if self.target == "docker":
            return docker_handed(plan, service)
        return vm_handed(self.resolved["before" if plan is self.before else "after"], service)


@pytest.fixture(scope="module", params=TARGETS)
def cycle(request, tmp_path_factory) -> Cycle:
    if request.param == "docker":
        config = {"protectData": "true"}  # as every docker stack but dev
        before, after = plan_stack("dev", config=config), plan_stack("dev", config=config, generation=1)
        return Cycle("docker", before, after, {})
    before, after = request.getfixturevalue("prod_plan"), plan_stack("prod", generation=1)
    resolved = {name: vm_resolved(plan, tmp_path_factory.mktemp(name))
                for name, plan in (("before", before), ("after", after))}
    return Cycle("vm", before, after, resolved)


def test_destroy_keeps_the_data_but_not_the_passwords(cycle):
    """What makes this cycle happen: the data outlives `destroy`, the generated passwords do not."""
    for plan in (cycle.before, cycle.after):
        if cycle.target == "docker":
            volumes = plan.of_type("docker:index/volume:Volume")
            assert volumes and all(volume.retain_on_delete for volume in volumes)
        else:
            [disk] = plan.of_type("gcp:compute/disk:Disk")
            assert disk.protect and disk.inputs["deletionPolicy"] == "PREVENT"
        passwords = plan.of_type("random:index/randomPassword:RandomPassword")
        assert passwords and not any(p.retain_on_delete or p.protect for p in passwords)
    for output in ("kestra_password", "pgadmin_password", "postgres_password"):
        assert cycle.before.outputs[output] != cycle.after.outputs[output], output


def server_user() -> dict:
    """initdb and postgres refuse root: as root, the cluster and the step run as `nobody`, as in
    tests/postgres_server.py."""
    if os.geteuid() != 0:
        return {}
    user = pwd.getpwnam(SERVER_USER_AS_ROOT)
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def give_to_server_user(*paths: Path) -> None:
    if os.geteuid() == 0:
        user = pwd.getpwnam(SERVER_USER_AS_ROOT)
        for path in paths:
            os.chown(path, user.pw_uid, user.pw_gid)


class KeptCluster:
    """A data directory on a "kept volume", made as the postgres image makes it on first start: initdb
    with POSTGRES_USER and POSTGRES_PASSWORD, then POSTGRES_DB. Socket connections are `trust` (initdb's
    default, which the image keeps); TCP ones need the password, as for the other containers
    (the image appends `host all all all scram-sha-256`; here TCP is loopback, so scram is set for it)."""

    def __init__(self, root: Path) -> None:
        self.bindir = find_bindir()
        self.root = root
        give_to_server_user(root)
        if os.geteuid() == 0 and is_wheel(self.bindir):  # where the server user can reach the programs
            self.bindir = link_wheel_tree(self.bindir, root / "install")
        self.datadir = root / "data"
        self.socket_dir = root / "socket"
        self.port = free_port()

    def run(self, command: list[str], env: dict[str, str] | None = None,
            stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(command, env=env, input=stdin, capture_output=True, text=True, timeout=120,
                              **server_user())

    def tool(self, name: str) -> str:
        return str(self.bindir / name)

    def initialise(self, user: str, database: str, password: str, templates: dict) -> None:
        """initdb once per (user, database, password) into `templates`, then a copy of that here."""
        self.socket_dir.mkdir()
        give_to_server_user(self.socket_dir)
        key = (user, database, password)
        if key not in templates:
            self._initdb(user, database, password)
            templates[key] = self.root / "template"
            self.run(["cp", "-a", str(self.datadir), str(templates[key])])
        else:
            done = self.run(["cp", "-a", str(templates[key]), str(self.datadir)])
            assert done.returncode == 0, done.stderr

    def _initdb(self, user: str, database: str, password: str) -> None:
        pwfile = self.root / "pwfile"
        pwfile.write_text(password + "\n")
        give_to_server_user(pwfile)
        done = self.run([self.tool("initdb"), "-D", str(self.datadir), f"--username={user}",
                         f"--pwfile={pwfile}", "--auth-local=trust", "--auth-host=scram-sha-256",
                         "--no-sync"])
        assert done.returncode == 0, done.stderr
        pwfile.unlink()
        self.start(tcp=False)
        created = self.run([self.tool("psql"), "-h", str(self.socket_dir), "-p", str(self.port), "-U", user,
                            "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", f'CREATE DATABASE "{database}"'])
        assert created.returncode == 0, created.stderr
        self.stop()

    def start(self, tcp: bool = True) -> None:
        listen = "127.0.0.1" if tcp else "''"
        options = (f"-c listen_addresses={listen} -p {self.port} -c unix_socket_directories={self.socket_dir}"
                   " -c fsync=off")
        done = self.run([self.tool("pg_ctl"), "-D", str(self.datadir), "-o", options,
                         "-l", str(self.root / "server.log"), "-w", "-t", "60", "start"])
        assert done.returncode == 0, done.stderr

    def stop(self) -> None:
        if (self.datadir / "postmaster.pid").exists():
            self.run([self.tool("pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "stop"])

    def run_step(self, handed: Handed) -> subprocess.CompletedProcess:
        """The container's entrypoint + command on the kept directory, with the image's entrypoint
        functions from the stand-in and the environment and files the plan hands the container."""
        entrypoint, command = handed.entrypoint, handed.command
        assert entrypoint[:1] == ["bash"] and entrypoint[1:2] and entrypoint[1] in handed.files, (
            "the step is handed to the container")
        image_dir = self.root / "image"
        image_dir.mkdir(exist_ok=True)
        script = image_dir / "step.sh"
        script.write_text(handed.files[entrypoint[1]])
        shutil.copy(STAND_IN, image_dir / "docker-entrypoint.sh")
        (image_dir / "docker-entrypoint.sh").chmod(0o755)
        env = {"PATH": f"{image_dir}:{self.bindir}:/usr/bin:/bin", "PGDATA": str(self.datadir),
               "PGPORT": str(self.port), "STAND_IN_SOCKET_DIR": str(self.socket_dir),
               "STAND_IN_LOG": str(self.root / "handed-over.log")}
        for path, content in handed.files.items():  # a secret handed as a file (…_FILE) is read there
            if path != entrypoint[1]:
                local = image_dir / Path(path).name
                local.write_text(content)
        for key, value in handed.env.items():
            env[key] = str(image_dir / Path(value).name) if key.endswith("_FILE") else value
        give_to_server_user(image_dir, *image_dir.iterdir())
        return self.run(["bash", str(script), *command], env=env)

    def handed_over(self) -> list[str]:
        return (self.root / "handed-over.log").read_text().split()


@pytest.fixture(scope="module")
def templates() -> Iterator[dict]:
    """Initialised data directories, by (user, database, password): initdb is the slow part."""
    made: dict = {}
    yield made
    for path in made.values():
        shutil.rmtree(path.parent, ignore_errors=True)


@pytest.fixture
def kept_cluster(templates) -> Iterator[KeptCluster]:
    try:
        find_bindir()
    except (PostgresUnavailable, PostgresMisconfigured) as error:
        if running_in_ci():
            pytest.fail(f"PostgreSQL is required in CI: {error}")
        pytest.skip(f"PostgreSQL not installed ({error})")
    root = Path(tempfile.mkdtemp(prefix="kestra-stack-kept-"))
    cluster = KeptCluster(root)
    yield cluster
    cluster.stop()
    if root not in {path.parent for path in templates.values()}:
        shutil.rmtree(root, ignore_errors=True)


def connects(cluster: KeptCluster, user: str, database: str, password: str) -> bool:
    try:
        with psycopg.connect(host="127.0.0.1", port=cluster.port, dbname=database, user=user,
                             password=password, connect_timeout=10):
            return True
    except psycopg.OperationalError as error:
        assert "password authentication failed" in str(error), str(error)
        return False


def psql_with_passfile(cluster: KeptCluster, passfile: Path, host: str, user: str, database: str) -> bool:
    conninfo = f"host={host} hostaddr=127.0.0.1 port={cluster.port} dbname={database} user={user}"
    env = {"PATH": "/usr/bin:/bin", "PGPASSFILE": str(passfile)}
    done = subprocess.run([cluster.tool("psql"), "-w", "-X", "-A", "-t", "-d", conninfo, "-c", "select 1"],
                          env=env, capture_output=True, text=True, timeout=30)
    return done.returncode == 0


def kept_and_restarted(cycle: Cycle, cluster: KeptCluster, templates: dict,
                       service: str) -> tuple[Handed, Handed]:
    """Initialise with the first plan's password, run the second plan's step, start for TCP."""
    before, after = cycle.handed(cycle.before, service), cycle.handed(cycle.after, service)
    user, database = after.env["POSTGRES_USER"], after.env["POSTGRES_DB"]
    assert (before.env["POSTGRES_USER"], before.env["POSTGRES_DB"]) == (user, database)
    cluster.initialise(user, database, before.secret("POSTGRES_PASSWORD"), templates)
    # The failure this step fixes: the kept directory still holds the old password.
    cluster.start()
    assert not connects(cluster, user, database, after.secret("POSTGRES_PASSWORD"))
    assert connects(cluster, user, database, before.secret("POSTGRES_PASSWORD"))
    cluster.stop()

    step = cluster.run_step(after)
    assert step.returncode == 0, step.stderr
    assert after.secret("POSTGRES_PASSWORD") not in step.stdout + step.stderr
    # Then the image's own entrypoint runs, with the image's command.
    assert cluster.handed_over() == ["postgres"]
    cluster.start()
    return before, after


@pytest.mark.postgres
def test_kestra_logs_in_to_its_kept_database_with_the_new_password(cycle, kept_cluster, templates):
    before, after = kept_and_restarted(cycle, kept_cluster, templates, KESTRA_POSTGRES)
    kestra = cycle.handed(cycle.after, "kestra")
    user = after.env["POSTGRES_USER"]
    assert connects(kept_cluster, user, after.env["POSTGRES_DB"], kestra_datasource_password(kestra))
    assert not connects(kept_cluster, user, after.env["POSTGRES_DB"], before.secret("POSTGRES_PASSWORD"))


@pytest.mark.postgres
def test_kestra_pgadmin_and_the_outputs_reach_the_kept_taxi_database_with_the_new_password(
        cycle, kept_cluster, templates, tmp_path):
    before, after = kept_and_restarted(cycle, kept_cluster, templates, TAXI_POSTGRES)
    user, database = after.env["POSTGRES_USER"], after.env["POSTGRES_DB"]
    assert connects(kept_cluster, user, database, kestra_taxi_password(cycle.handed(cycle.after, "kestra")))
    assert connects(kept_cluster, user, database, cycle.after.outputs["postgres_password"])
    assert not connects(kept_cluster, user, database, before.secret("POSTGRES_PASSWORD"))

    pgadmin = cycle.handed(cycle.after, "pgadmin")
    passfile = tmp_path / "pgpass"
    passfile.write_text(pgadmin.files[pgadmin.env["PGPASS_FILE"]].replace(":5432:", f":{kept_cluster.port}:"))
    passfile.chmod(0o600)
    for each in (database, "postgres"):
        assert psql_with_passfile(kept_cluster, passfile, TAXI_POSTGRES, user, each), each



def test_pgadmin_is_handed_its_step_on_both_targets(cycle):
    pgadmin = cycle.handed(cycle.after, "pgadmin")
    step = pgadmin_step()
    assert pgadmin.entrypoint == list(step.entrypoint) and pgadmin.command == list(step.command)
    assert pgadmin.files[step.script_path] == step.script


@pytest.mark.validators
@pytest.mark.parametrize("script", [PROJECT_ROOT / "infra" / "credential_sync" / "postgres.sh", STAND_IN],
                         ids=["step", "stand-in"])
def test_the_postgres_step_and_its_stand_in_pass_shellcheck(script):
    result = shellcheck(script)
    assert result.ok, result.output
