"""kestra-stack: the pgAdmin container's entrypoint (infra/credential_sync), run by the image's Python.

pgAdmin's /entrypoint.sh creates its login user and copies PGPASS_FILE only when pgadmin4.db does not
exist yet (pgadmin4 pkg/docker/entrypoint.sh at REL-9_17). On a kept pgadmin4.db this first makes the
PGADMIN_DEFAULT_EMAIL user an active administrator with PGADMIN_DEFAULT_PASSWORD (each variable or its
_FILE, as the image's file_env reads them) and copies PGPASS_FILE into that user's storage folder, then
execs the command it was given (the image's /entrypoint.sh), which on a kept database loads servers.json
for that user. A user's data is never deleted: after a changed pgadminEmail the old login stays.

The user is set with the functions pgAdmin's own `setup.py add-user` / `update-user` call
(pgadmin.tools.user_management create_user / update_user, web/setup.py at REL-9_17), in-process and in
one application: the CLI takes the password as a command-line argument, and each of its commands builds
the Flask application several times over. Nothing printed names a secret.
"""

import os
import shutil
import sys

# pgAdmin's code directory (the image's WORKDIR); tests point it at an installed pgadmin4 package.
PGADMIN_DIR = os.environ.get("KESTRA_STACK_PGADMIN_DIR", "/pgadmin4")
ADMINISTRATOR = "Administrator"


def log(message):
    print(f"kestra-stack: {message}", flush=True)


def fail(message):
    sys.stderr.write(f"kestra-stack: error: {message}\n")
    sys.exit(1)


def secret(name):
    """NAME's value, else the content of the file NAME_FILE names (trailing newlines cut, as `$(< f)`)."""
    value, path = os.environ.get(name), os.environ.get(f"{name}_FILE")
    if value and path:
        fail(f"both {name} and {name}_FILE are set")
    if path:
        try:
            with open(path, encoding="utf-8") as handle:
                value = handle.read().rstrip("\n")
        except OSError as error:
            fail(f"{name}_FILE: cannot read {path} ({error.strerror})")
    if not value:
        fail(f"{name} (or {name}_FILE) is not set")
    return value


def set_login(config, email, password):
    """Create or update the internal user `email` as an active, unlocked administrator with
    `password`, then check that pgAdmin itself accepts that password."""
    from flask_security.utils import verify_password
    from pgadmin import create_app
    from pgadmin.model import Role, User
    from pgadmin.tools.user_management import create_user, update_user
    from pgadmin.utils.constants import INTERNAL

    app = create_app(config.APP_NAME + "-cli")
    with app.test_request_context():
        role = Role.query.filter_by(name=ADMINISTRATOR).first()
        user = User.query.filter_by(username=email, auth_source=INTERNAL).first()
        # The data setup.py's add-user / update-user hand these functions, plus `locked`.
        data = {"newPassword": password, "confirmPassword": password, "role": role.id, "active": True,
                "locked": False}
        if user is None:
            done, message = create_user({**data, "email": email, "auth_source": INTERNAL})
            action = "created the pgAdmin login"
        else:
            done, message = update_user(user.id, data)
            action = "set the password of the pgAdmin login"
        if not done:
            fail(f"pgAdmin refused the login {email}: {message}")
    with app.test_request_context():
        user = User.query.filter_by(username=email, auth_source=INTERNAL).first()
        if user is None or not user.active or user.locked or not verify_password(password, user.password) \
                or ADMINISTRATOR not in {held.name for held in user.roles}:
            fail(f"pgAdmin did not take the login {email}")
    log(f"{action} {email} from the current secret")


def copy_pgpass(config, email):
    """PGPASS_FILE into the user's storage folder, named as pgAdmin names it, mode 600."""
    from pgadmin.utils.paths import preprocess_username

    source = os.environ.get("PGPASS_FILE")
    if not source or not os.path.isfile(source):
        return
    folder = os.path.join(config.STORAGE_DIR, preprocess_username(email))
    os.makedirs(folder, mode=0o700, exist_ok=True)
    target = os.path.join(folder, ".pgpass")
    shutil.copyfile(source, target)
    os.chmod(target, 0o600)


def main(argv):
    if len(argv) < 2:
        fail("usage: kestra_stack_credentials.py COMMAND [ARG...] (the image's entrypoint)")
    sys.path.insert(0, PGADMIN_DIR)
    os.chdir(PGADMIN_DIR)
    import config  # pgAdmin's config.py: SQLITE_PATH, STORAGE_DIR

    if os.path.isfile(config.SQLITE_PATH) and not config.CONFIG_DATABASE_URI:
        email = os.environ.get("PGADMIN_DEFAULT_EMAIL") or fail("PGADMIN_DEFAULT_EMAIL is not set")
        set_login(config, email, secret("PGADMIN_DEFAULT_PASSWORD"))
        copy_pgpass(config, email)
    os.execvp(argv[1], argv[1:])


if __name__ == "__main__":
    main(sys.argv)
