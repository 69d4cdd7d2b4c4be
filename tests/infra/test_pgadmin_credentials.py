"""pgAdmin on a kept pgadmin4.db takes the login, password and pass file the new plan hands it
(infra/credential_sync/pgadmin.py), checked with pgAdmin 9.17's own code: the PyPI release `pgadmin4`
of the image's version, in its own virtualenv (.venv-pgadmin from requirements-pgadmin.lock; .ci/run
installs it)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from infra.credential_sync import PGADMIN_IMAGE_ENTRYPOINT, pgadmin_step
from infra.offline import REPO_ROOT, plan_stack
from tests.infra.test_kept_data_credentials import Handed, docker_handed
from tests.infra.validators import missing_tool

PGADMIN_VENV = REPO_ROOT / ".venv-pgadmin"
CHANGED_EMAIL = "7analyst@example.org"  # a leading digit: pgAdmin prefixes its storage folder name
pytestmark = pytest.mark.pgadmin


def pgadmin_image_version() -> str:
    declared = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())["config"]["pgadminImage"]["default"]
    return declared.rsplit(":", 1)[1]


@pytest.fixture(scope="module")
def pgadmin() -> tuple[Path, Path]:
    """(python, pgAdmin's code directory) of the pgadmin4 release the image pins."""
    python = PGADMIN_VENV / "bin" / "python"
    if not python.is_file():
        missing_tool(f"no {PGADMIN_VENV}: python3 -m venv .venv-pgadmin && "
                     ".venv-pgadmin/bin/pip install -r requirements-pgadmin.lock")
    found = subprocess.run([str(python), "-c", "import importlib.metadata as m, importlib.util as u; "
                            "print(m.version('pgadmin4')); print(u.find_spec('pgadmin4').submodule_search_locations[0])"],
                           capture_output=True, text=True, check=True)
    version, code_dir = found.stdout.split()
    assert version == pgadmin_image_version(), (
        "the pgadmin4 release must be the image's version: regenerate requirements-pgadmin.lock")
    return python, Path(code_dir)


def pgadmin_env(data_dir: Path, code_dir: Path) -> dict[str, str]:
    """pgAdmin's configuration as in the image, with its data directory moved to `data_dir`."""
    distro = data_dir.parent / "config_distro.py"
    distro.write_text(f"DATA_DIR = {str(data_dir)!r}\nLOG_FILE = '/dev/null'\n")
    return {"PATH": "/usr/bin:/bin", "CONFIG_DISTRO_FILE_PATH": str(distro),
            "KESTRA_STACK_PGADMIN_DIR": str(code_dir)}


@pytest.fixture(scope="module")
def after() -> Handed:
    """What the next plan after a destroy hands pgAdmin: the same email, a new password."""
    return docker_handed(plan_stack("dev", config={"protectData": "true"}, generation=1), "pgadmin")


@pytest.fixture(scope="module")
def kept_db(pgadmin, after, tmp_path_factory) -> tuple[Path, Handed]:
    """A pgadmin4.db made as pgAdmin's first start makes it, with the first plan's login and password:
    it knows the old password only (the failure being fixed), and no user of the changed email."""
    python, code_dir = pgadmin
    before = docker_handed(plan_stack("dev", config={"protectData": "true"}), "pgadmin")
    data_dir = tmp_path_factory.mktemp("pgadmin") / "data"
    data_dir.mkdir()
    env = pgadmin_env(data_dir, code_dir) | {
        "PGADMIN_SETUP_EMAIL": before.env["PGADMIN_DEFAULT_EMAIL"],
        "PGADMIN_SETUP_PASSWORD": before.secret("PGADMIN_DEFAULT_PASSWORD")}
    subprocess.run([str(python), str(code_dir / "setup.py"), "setup-db"], env=env, cwd=code_dir,
                   capture_output=True, text=True, check=True, timeout=300)
    assert (data_dir / "pgadmin4.db").is_file()
    email = before.env["PGADMIN_DEFAULT_EMAIL"]
    new, old = after.secret("PGADMIN_DEFAULT_PASSWORD"), before.secret("PGADMIN_DEFAULT_PASSWORD")
    assert after.env["PGADMIN_DEFAULT_EMAIL"] == email and new != old
    # One probe (pgAdmin's start-up is most of its cost) for all the kept database says before any step.
    changed, with_new, with_old = login_states(pgadmin, data_dir, (CHANGED_EMAIL, "any"), (email, new), (email, old))
    assert (changed, with_new["password_ok"], with_old) == (None, False, ADMIN_WITH_PASSWORD)
    return data_dir, before


def run_step(pgadmin, data_dir: Path, handed: Handed, workdir: Path) -> subprocess.CompletedProcess:
    """The container's entrypoint + command as the plan hands them, the image's Python and /entrypoint.sh
    replaced by this machine's: the venv's python and a recorder."""
    python, code_dir = pgadmin
    step = pgadmin_step()
    assert handed.entrypoint == list(step.entrypoint) and handed.command == [PGADMIN_IMAGE_ENTRYPOINT]
    script = workdir / "step.py"
    script.write_text(handed.files[step.script_path])
    recorder = workdir / "entrypoint.sh"
    recorder.write_text(f"#!/bin/sh\necho handed-over > {workdir / 'handed-over'}\n")
    recorder.chmod(0o755)
    env = pgadmin_env(data_dir, code_dir)
    for key, value in handed.env.items():
        if key.startswith("PGADMIN_DEFAULT_"):
            env[key] = value
        if key.endswith("_FILE") and value in handed.files:  # handed files, at a local path
            local = workdir / Path(value).name
            local.write_text(handed.files[value])
            env[key] = str(local)
    return subprocess.run([str(python), str(script), str(recorder)], env=env, capture_output=True, text=True,
                          timeout=300)


def login_states(pgadmin, data_dir: Path, *logins: tuple[str, str]) -> list[dict | None]:
    """What pgAdmin itself says of each (email, password): None when there is no such internal user,
    else whether it is active and locked, its roles, and whether the password verifies."""
    python, code_dir = pgadmin
    probe = (
        "import json, sys, config\n"
        "from flask_security.utils import verify_password\n"
        "from pgadmin import create_app\n"
        "from pgadmin.model import User\n"
        "app = create_app('probe-cli')\n"
        "states = []\n"
        "for email, password in json.loads(sys.stdin.read()):\n"
        "    with app.test_request_context():\n"
        "        user = User.query.filter_by(username=email, auth_source='internal').first()\n"
        "        states.append(None if user is None else {'active': user.active, 'locked': user.locked,\n"
        "            'roles': [role.name for role in user.roles],\n"
        "            'password_ok': bool(verify_password(password, user.password))})\n"
        "print(json.dumps(states))\n")
    done = subprocess.run([str(python), "-c", probe], input=json.dumps(logins), env=pgadmin_env(data_dir, code_dir),
                          cwd=code_dir, capture_output=True, text=True, check=True, timeout=300)
    return json.loads(done.stdout.strip().splitlines()[-1])


ADMIN_WITH_PASSWORD = {"active": True, "locked": False, "roles": ["Administrator"], "password_ok": True}


def copy_of(data_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(data_dir, copy)
    return copy


def test_a_kept_db_takes_the_new_password_for_the_same_email(pgadmin, kept_db, after, tmp_path):
    data_dir, before = kept_db  # knows only the old password (checked in kept_db)
    data_dir = copy_of(data_dir, tmp_path)
    email, new, old = (after.env["PGADMIN_DEFAULT_EMAIL"], after.secret("PGADMIN_DEFAULT_PASSWORD"),
                       before.secret("PGADMIN_DEFAULT_PASSWORD"))

    done = run_step(pgadmin, data_dir, after, tmp_path)
    assert done.returncode == 0, done.stderr
    assert new not in done.stdout + done.stderr
    assert (tmp_path / "handed-over").is_file(), "then the image's entrypoint runs"
    now_new, now_old = login_states(pgadmin, data_dir, (email, new), (email, old))
    assert now_new == ADMIN_WITH_PASSWORD
    assert now_old["password_ok"] is False


def test_a_changed_email_on_a_kept_db_gets_a_login_and_the_pass_file(pgadmin, kept_db, tmp_path):
    data_dir, before = kept_db
    data_dir = copy_of(data_dir, tmp_path)
    after = docker_handed(plan_stack("dev", config={"protectData": "true", "pgadminEmail": CHANGED_EMAIL},
                                     generation=1), "pgadmin")
    new = after.secret("PGADMIN_DEFAULT_PASSWORD")
    old = (before.env["PGADMIN_DEFAULT_EMAIL"], before.secret("PGADMIN_DEFAULT_PASSWORD"))

    done = run_step(pgadmin, data_dir, after, tmp_path)
    assert done.returncode == 0, done.stderr
    changed, old_login = login_states(pgadmin, data_dir, (CHANGED_EMAIL, new), old)
    assert changed == ADMIN_WITH_PASSWORD
    assert old_login == ADMIN_WITH_PASSWORD, "the old login is left as it was (its data is the user's)"
    # The pass file where pgAdmin looks for this user's `/.pgpass` (its storage folder naming).
    passfile = data_dir / "storage" / f"pga_user_{CHANGED_EMAIL.replace('@', '_')}" / ".pgpass"
    assert passfile.read_text() == after.files[after.env["PGPASS_FILE"]]
    assert passfile.stat().st_mode & 0o777 == 0o600


def test_a_fresh_volume_is_left_to_the_images_entrypoint(pgadmin, after, tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    done = run_step(pgadmin, data_dir, after, tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "handed-over").is_file()
    assert not (data_dir / "pgadmin4.db").exists() and not (data_dir / "storage").exists()


def test_a_missing_password_stops_the_container_with_one_line_naming_it(pgadmin, kept_db, tmp_path):
    data_dir, before = kept_db
    data_dir = copy_of(data_dir, tmp_path)
    handed = Handed(before.entrypoint, before.command,
                    {k: v for k, v in before.env.items() if not k.startswith("PGADMIN_DEFAULT_PASSWORD")},
                    before.files)
    done = run_step(pgadmin, data_dir, handed, tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip() == ("kestra-stack: error: PGADMIN_DEFAULT_PASSWORD (or PGADMIN_DEFAULT_PASSWORD_FILE)"
                                   " is not set")
    assert not (tmp_path / "handed-over").exists()
