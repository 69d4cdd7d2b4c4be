#!/usr/bin/env bash
# Stands in for the postgres image's /usr/local/bin/docker-entrypoint.sh in tests (docker-library/postgres
# 18/*/docker-entrypoint.sh): the functions infra/credential_sync/postgres.sh calls, with the same names,
# variables and effects, run against a real PostgreSQL data directory. Differences, because a test is not
# a container: the socket directory is $STAND_IN_SOCKET_DIR (the image: /var/run/postgresql, its
# default), and run as a command it records its arguments in $STAND_IN_LOG instead of starting postgres.
set -Eeo pipefail

_is_sourced() {
  [ "${#FUNCNAME[@]}" -ge 2 ] && [ "${FUNCNAME[0]}" = '_is_sourced' ] && [ "${FUNCNAME[1]}" = 'source' ]
}

file_env() {  # as the image's: VAR or VAR_FILE (exclusive), exported as VAR
  local var="$1" fileVar="${1}_FILE" def="${2:-}" val
  if [ "${!var:-}" ] && [ "${!fileVar:-}" ]; then
    printf >&2 'error: both %s and %s are set (but are exclusive)\n' "$var" "$fileVar"
    exit 1
  fi
  val="$def"
  if [ "${!var:-}" ]; then val="${!var}"; elif [ "${!fileVar:-}" ]; then val="$(< "${!fileVar}")"; fi
  export "$var"="$val"
  unset "$fileVar"
}

# shellcheck disable=SC2034  # DATABASE_ALREADY_EXISTS is read by the script that sources this file
docker_setup_env() {
  file_env 'POSTGRES_PASSWORD'
  file_env 'POSTGRES_USER' 'postgres'
  file_env 'POSTGRES_DB' "$POSTGRES_USER"
  declare -g DATABASE_ALREADY_EXISTS=
  if [ -s "$PGDATA/PG_VERSION" ]; then DATABASE_ALREADY_EXISTS='true'; fi
}

docker_create_db_directories() {
  mkdir -p "$PGDATA"
  chmod 00700 "$PGDATA" || :
}

docker_temp_server_start() {  # socket only, like the image's
  if [ "$1" = 'postgres' ]; then shift; fi
  set -- "$@" -c listen_addresses='' -p "${PGPORT:-5432}" -c unix_socket_directories="$STAND_IN_SOCKET_DIR"
  PGUSER="${PGUSER:-$POSTGRES_USER}" pg_ctl -D "$PGDATA" -o "$(printf '%q ' "$@")" -w start >/dev/null
}

docker_temp_server_stop() {
  PGUSER="${PGUSER:-postgres}" pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
}

docker_process_sql() {  # as the image's, over the socket
  local query_runner=( psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc )
  if [ -n "$POSTGRES_DB" ]; then query_runner+=( --dbname "$POSTGRES_DB" ); fi
  PGHOST="$STAND_IN_SOCKET_DIR" PGHOSTADDR='' "${query_runner[@]}" "$@"
}

if ! _is_sourced; then
  printf '%s\n' "$@" >"$STAND_IN_LOG"
fi
