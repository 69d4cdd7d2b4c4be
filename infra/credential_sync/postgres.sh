#!/usr/bin/env bash
# kestra-stack: the postgres container's entrypoint (infra/credential_sync). On a data directory that
# already holds a database, the image's entrypoint skips initialisation and with it POSTGRES_PASSWORD
# ("Skipping initialization", docker-library/postgres 18/*/docker-entrypoint.sh). This step first sets
# the owner role's password to the current POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) over the
# socket-only server the image's own functions start, then hands over to the image's entrypoint.
# Nothing here prints the password; it never appears on a command line.
set -Eeo pipefail

# The image's entrypoint defines its functions and does not run when sourced (its _is_sourced check).
# shellcheck source=/dev/null
source docker-entrypoint.sh
docker_setup_env  # POSTGRES_USER, POSTGRES_DB, POSTGRES_PASSWORD (from its _FILE too), DATABASE_ALREADY_EXISTS

if [ "$(id -u)" = 0 ]; then
  docker_create_db_directories
  exec gosu postgres bash "$0" "$@"
fi

if [ -n "$DATABASE_ALREADY_EXISTS" ]; then
  [ -n "$POSTGRES_PASSWORD" ] || { echo "kestra-stack: POSTGRES_PASSWORD is empty" >&2; exit 1; }
  docker_temp_server_start "$@"
  # psql reads the password from its environment (\getenv) and quotes it as a literal (:'...'); the
  # session keeps the statement out of the server log even if it failed.
  docker_process_sql --quiet <<'EOSQL'
SET log_statement = 'none';
SET log_min_error_statement = 'panic';
\getenv new_password POSTGRES_PASSWORD
ALTER ROLE CURRENT_USER PASSWORD :'new_password';
EOSQL
  docker_temp_server_stop
  echo "kestra-stack: set the password of role $POSTGRES_USER from the current secret"
fi

exec docker-entrypoint.sh "$@"
