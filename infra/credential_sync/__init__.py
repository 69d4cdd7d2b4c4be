"""Kept data, working credentials: start-up steps that make a kept data volume accept the stack's
current secrets.

With `protectData: true` a `pulumi destroy` keeps the data (Docker volumes, the VM's data disk) but not
the generated passwords: the next `up` generates new ones. The images apply a password only to an empty
volume — the postgres image runs initdb with POSTGRES_PASSWORD only on an empty data directory
("Skipping initialization", docker-library/postgres 18/*/docker-entrypoint.sh), and pgAdmin creates its
login user and copies PGPASS_FILE only when pgadmin4.db is missing (pgadmin4 pkg/docker/entrypoint.sh at
REL-9_17). So each of those services gets an entrypoint of ours that, on every start, brings the kept
data in line with the secrets it was handed and then runs the image's own entrypoint unchanged:

- Postgres (`postgres.sh`): on a data directory that holds a database, start the image's socket-only
  temporary server, `ALTER ROLE CURRENT_USER PASSWORD` from POSTGRES_PASSWORD (or
  POSTGRES_PASSWORD_FILE, read by the image's own `docker_setup_env`), stop it, exec
  `docker-entrypoint.sh`. Local socket connections are `trust` in the image's cluster (initdb's default
  auth; the image adds password auth for TCP only), so the old password is never needed.
- pgAdmin (`pgadmin.py`): on an existing pgadmin4.db, create or update the PGADMIN_DEFAULT_EMAIL user
  (an active, unlocked administrator) with PGADMIN_DEFAULT_PASSWORD (or its _FILE), with the functions
  pgAdmin's `setup.py add-user` / `update-user` call, in-process (the CLI would put the password on a
  command line), check that pgAdmin verifies it, and copy PGPASS_FILE into that user's storage folder;
  then exec pgAdmin's /entrypoint.sh.

The credentials are deliberately not kept with the data (no `retain_on_delete` on the passwords or their
Secret Manager secrets): a retained RandomPassword is just forgotten state (the next `up` makes a new
one anyway), and a retained Secret Manager secret makes the next `up` fail with "already exists" unless
imported by hand. Re-applying the current secrets at start-up needs neither and also covers a changed
`pgadminEmail` or a rotated password.

A target uses this by taking the service set as built (infra.services): each service here carries the
step as `entrypoint` + `command` and the script as a `File`. Another target (e.g. Kubernetes) reuses the
same script texts and commands: `postgres_step()` / `pgadmin_step()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

_HERE = Path(__file__).parent

# Where the scripts go inside the images: directories the images already have.
POSTGRES_STEP_PATH = "/usr/local/bin/kestra-stack-postgres-credentials.sh"
PGADMIN_STEP_PATH = "/pgadmin4/kestra_stack_credentials.py"
# The images' own entrypoints, run after the step (postgres: on PATH; pgAdmin: its Dockerfile ENTRYPOINT).
POSTGRES_IMAGE_COMMAND = ("postgres",)
PGADMIN_IMAGE_ENTRYPOINT = "/entrypoint.sh"
PGADMIN_PYTHON = "/venv/bin/python3"


@dataclass(frozen=True)
class StartupStep:
    """What a container runs instead of its image's entrypoint, and the script it needs in place."""

    entrypoint: tuple[str, ...]
    command: tuple[str, ...]
    script_path: str
    script: str


def postgres_step() -> StartupStep:
    # Setting an entrypoint drops the image's CMD, so `postgres` is given again.
    return StartupStep(entrypoint=("bash", POSTGRES_STEP_PATH), command=POSTGRES_IMAGE_COMMAND,
                       script_path=POSTGRES_STEP_PATH, script=(_HERE / "postgres.sh").read_text())


def pgadmin_step() -> StartupStep:
    return StartupStep(entrypoint=(PGADMIN_PYTHON, PGADMIN_STEP_PATH), command=(PGADMIN_IMAGE_ENTRYPOINT,),
                       script_path=PGADMIN_STEP_PATH, script=(_HERE / "pgadmin.py").read_text())
