#!/bin/bash
# Boot script of the Kestra VM. The Google guest agent runs it (metadata key `startup-script`) on every
# boot, so every step checks the state it establishes and is safe to repeat:
#   1. format the data disk once (only a disk proven blank), mount it, grow its filesystem to the
#      disk's size, and bind Docker's volume store onto it: both Postgres data directories, Kestra's
#      storage and pgAdmin's data live on the disk;
#   2. install the pinned Docker Engine and Compose plugin (skipped when those versions are installed);
#   3. read the stack's secrets from Secret Manager with the VM service account's token onto tmpfs, before
#      Docker starts (it restarts the containers at once): each secret file byte for byte with the owner
#      and mode its container reads it as, and the env secrets into an env file (root only);
#   4. `docker compose up` the compose file from metadata `kestra-compose`, which mounts those files and
#      fills its `${NAME}` placeholders from that env file; containers are recreated when the secrets
#      changed since the last run (a file's new content would not reach a running container).
# Nothing here prints a secret. Instance metadata holds only secret names, never values.
set -euo pipefail

# Empty on the VM. The tests run this script against a scratch directory with stub commands.
readonly ROOT="${KESTRA_BOOT_ROOT:-}"
readonly METADATA_URL=http://metadata.google.internal/computeMetadata/v1
readonly SECRET_MANAGER_URL=https://secretmanager.googleapis.com/v1
readonly DATA_DEVICE="${ROOT}/dev/disk/by-id/google-kestra-data"
readonly DATA_MOUNT="${ROOT}/mnt/disks/kestra-data"
readonly DOCKER_VOLUMES="${ROOT}/var/lib/docker/volumes"
readonly STACK_DIR="${ROOT}/etc/kestra-stack"
readonly RUN_DIR="${ROOT}/run/kestra-stack"
readonly SECRETS_DIR="${RUN_DIR}/secrets"  # infra/vm/compose.py SECRETS_DIR
readonly DOCKER_ETC="${ROOT}/etc/docker"
readonly APT_KEYRINGS="${ROOT}/etc/apt/keyrings"
readonly APT_SOURCES="${ROOT}/etc/apt/sources.list.d"
readonly DOCKER_VERSION=5:28.5.2-1~debian.12~bookworm
readonly COMPOSE_VERSION=2.40.3-1~debian.12~bookworm
readonly WAIT_TIMEOUT_S=900
# IAM bindings (the secrets' secretAccessor grants) take minutes to apply after `pulumi up` made them:
# until then Secret Manager answers 403 (or 404). Retry those for this long before giving up.
readonly SECRET_RETRY_LIMIT_S=600
readonly SECRET_RETRY_MAX_DELAY_S=60

log() { echo "kestra-boot: $*"; }
fail() { log "error: $*" >&2; exit 1; }

metadata() {
  curl --fail --silent --show-error --retry 5 --retry-connrefused \
    --header 'Metadata-Flavor: Google' "${METADATA_URL}/$1"
}

# A new persistent disk reads as zeros. blkid's exit 2 means "nothing identified", which a disk it could
# not read also gives: format only when no signature is found (wipefs lists none) and the first MiB,
# where partition tables and superblocks live, is all zeros.
disk_is_blank() {
  local signatures
  signatures="$(wipefs --no-act --noheadings -- "$DATA_DEVICE")" || return 1
  [ -z "$signatures" ] && cmp --silent --bytes=1048576 -- "$DATA_DEVICE" /dev/zero
}

mount_data_disk() {
  udevadm settle --timeout=60 || true
  [ -e "$DATA_DEVICE" ] || fail "data disk ${DATA_DEVICE} is not attached"
  local probe=0
  blkid --probe "$DATA_DEVICE" >/dev/null || probe=$?
  case "$probe" in
    0) ;;
    2) disk_is_blank || fail "blkid finds no filesystem on ${DATA_DEVICE}, but it is not blank (a signature" \
         "or data in its first MiB); refusing to format it: inspect it with wipefs --no-act and blkid"
       log "formatting the new data disk"
       mkfs.ext4 -q -m 0 -L kestra-data -E lazy_itable_init=0,lazy_journal_init=0,discard "$DATA_DEVICE" ;;
    *) fail "cannot probe ${DATA_DEVICE} (blkid exit ${probe}); refusing to format it" ;;
  esac
  mkdir -p "$DATA_MOUNT"
  mountpoint -q "$DATA_MOUNT" || mount -o defaults,discard,nodev,nosuid "$DATA_DEVICE" "$DATA_MOUNT"
  # After vmDataDiskGb grew the disk, grow the filesystem (online; a no-op when it already fits).
  resize2fs "$DATA_DEVICE" >/dev/null 2>&1
  if ! mountpoint -q "$DOCKER_VOLUMES"; then
    # Docker must never run with its volumes on the boot disk: stop it while the bind is put in place.
    systemctl stop docker.socket docker.service 2>/dev/null || true
    mkdir -p "$DATA_MOUNT/docker-volumes" "$DOCKER_VOLUMES"
    mount --bind "$DATA_MOUNT/docker-volumes" "$DOCKER_VOLUMES"
  fi
}

installed_version() {
  dpkg-query --show --showformat='${Version}' "$1" 2>/dev/null || true
}

install_docker() {
  mkdir -p "$DOCKER_ETC"
  # The `local` log driver rotates container logs, so Kestra's logs cannot fill the boot disk.
  printf '{"log-driver": "local"}\n' >"$DOCKER_ETC/daemon.json"
  if [ "$(installed_version docker-ce)" = "$DOCKER_VERSION" ] \
    && [ "$(installed_version docker-compose-plugin)" = "$COMPOSE_VERSION" ] \
    && command -v jq >/dev/null; then
    return
  fi
  log "installing Docker ${DOCKER_VERSION} and Compose ${COMPOSE_VERSION}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o Acquire::Retries=5 update -qq
  apt-get -o Acquire::Retries=5 install -y -qq ca-certificates curl jq
  install -m 0755 -d "$APT_KEYRINGS" "$APT_SOURCES"
  curl --fail --silent --show-error --location --retry 5 --retry-connrefused \
    https://download.docker.com/linux/debian/gpg --output "$APT_KEYRINGS/docker.asc"
  chmod a+r "$APT_KEYRINGS/docker.asc"
  echo "deb [arch=$(dpkg --print-architecture) signed-by=/etc/apt/keyrings/docker.asc]" \
    "https://download.docker.com/linux/debian bookworm stable" >"$APT_SOURCES/docker.list"
  apt-get -o Acquire::Retries=5 update -qq
  apt-get -o Acquire::Retries=5 install -y -qq --allow-downgrades \
    "docker-ce=${DOCKER_VERSION}" "docker-ce-cli=${DOCKER_VERSION}" containerd.io \
    "docker-compose-plugin=${COMPOSE_VERSION}"
}

start_docker() {
  # This script starts Docker itself, after the data disk is mounted, so it stays disabled at boot.
  systemctl disable --quiet docker.service docker.socket
  systemctl start docker.service
}

# Secret Manager's answer for one secret (JSON with .payload.data) on stdout. 403/404 are retried with
# backoff for SECRET_RETRY_LIMIT_S (IAM propagation); other HTTP errors fail at once; curl itself retries
# transient ones (timeouts, 429, 5xx).
access_secret() {
  local name="$1" url="${SECRET_MANAGER_URL}/$2/versions/latest:access" token="$3"
  local response status waited=0 delay=2
  while :; do
    # The token goes to curl on stdin, not on its command line where other processes could read it.
    response="$(printf 'Authorization: Bearer %s\n' "$token" \
      | curl --silent --show-error --retry 5 --header @- --write-out '\n%{http_code}' "$url")" \
      || fail "secret ${name}: cannot reach Secret Manager"
    status="${response##*$'\n'}"
    case "$status" in
      200) printf '%s' "${response%$'\n'*}"; return ;;
      403 | 404)
        [ "$waited" -lt "$SECRET_RETRY_LIMIT_S" ] \
          || fail "secret ${name}: Secret Manager still answers HTTP ${status} after ${waited}s; check that" \
               "the VM's service account has roles/secretmanager.secretAccessor on it and the secret has a version"
        # stderr: stdout is the secret's JSON.
        log "secret ${name}: Secret Manager answers HTTP ${status} (IAM bindings take minutes to apply);" \
          "retrying in ${delay}s (${waited}s of ${SECRET_RETRY_LIMIT_S}s waited)" >&2
        sleep "$delay"
        waited=$((waited + delay))
        delay=$((delay * 2 > SECRET_RETRY_MAX_DELAY_S ? SECRET_RETRY_MAX_DELAY_S : delay * 2)) ;;
      *) fail "secret ${name}: Secret Manager answers HTTP ${status}" ;;
    esac
  done
}

write_secrets() {
  local listing token kind name resource owner mode value staging="$RUN_DIR/staging"
  listing="$(metadata instance/attributes/kestra-secrets)"
  token="$(metadata instance/service-accounts/default/token | jq --raw-output .access_token)"
  install -d -m 0700 "$RUN_DIR"
  rm -rf "$staging"
  # A failure part-way leaves no partial secrets behind.
  trap 'rm -rf "$RUN_DIR/staging"' EXIT
  install -d -m 0700 "$staging" "$staging/secrets"
  (umask 077 && : >"$staging/secrets.env")
  while read -r kind name resource owner mode; do
    [ -n "$kind" ] || continue
    [[ "$name" =~ ^[A-Za-z0-9_.-]+$ ]] || fail "bad secret name in metadata kestra-secrets"
    case "$kind" in
      file)
        [[ "$owner" =~ ^[0-9]+$ && "$mode" =~ ^0[0-7]{3}$ ]] || fail "secret file ${name}: bad owner or mode"
        # Byte for byte: whatever a password holds reaches the container unchanged.
        (umask 077 && access_secret "$name" "$resource" "$token" | jq --raw-output .payload.data | base64 --decode >"$staging/secrets/$name")
        [ -s "$staging/secrets/$name" ] || fail "secret file ${name} is empty"
        chown "$owner:$owner" "$staging/secrets/$name"
        chmod "$mode" "$staging/secrets/$name"
        ;;
      env)
        value="$(access_secret "$name" "$resource" "$token" | jq --raw-output .payload.data | base64 --decode)"
        # Kestra's SECRET_* values are base64: nothing an env file would interpolate, quote or cut at.
        [[ "$value" =~ ^[A-Za-z0-9._+/=-]+$ ]] || fail "secret ${name} is empty or has characters an env file cannot hold"
        printf '%s=%s\n' "$name" "$value" >>"$staging/secrets.env"
        ;;
      *) fail "unknown secret kind in metadata kestra-secrets" ;;
    esac
  done <<<"$listing"
  rm -rf "$SECRETS_DIR"
  mv "$staging/secrets" "$SECRETS_DIR"
  mv "$staging/secrets.env" "$RUN_DIR/secrets.env"
  rm -rf "$staging"
}

secrets_changed() {
  # The digest (not the secrets) stays on disk, so a reboot with unchanged secrets recreates nothing.
  local digest
  digest="$(cd "$RUN_DIR" && find secrets.env secrets -type f | LC_ALL=C sort | xargs sha256sum | sha256sum)"
  install -d -m 0755 "$STACK_DIR"
  if [ -f "$STACK_DIR/secrets.sha256" ] && [ "$(cat "$STACK_DIR/secrets.sha256")" = "$digest" ]; then
    return 1
  fi
  printf '%s\n' "$digest" >"$STACK_DIR/secrets.sha256.new"
}

deploy_stack() {
  local recreate=()
  install -d -m 0755 "$STACK_DIR"
  metadata instance/attributes/kestra-compose >"$STACK_DIR/compose.yaml.new"
  mv "$STACK_DIR/compose.yaml.new" "$STACK_DIR/compose.yaml"
  if secrets_changed; then
    log "secrets changed: recreating the containers"
    recreate=(--force-recreate)
  fi
  docker compose --file "$STACK_DIR/compose.yaml" --env-file "$RUN_DIR/secrets.env" \
    up --detach --remove-orphans "${recreate[@]}" --wait --wait-timeout "$WAIT_TIMEOUT_S"
  if [ -f "$STACK_DIR/secrets.sha256.new" ]; then
    mv "$STACK_DIR/secrets.sha256.new" "$STACK_DIR/secrets.sha256"
  fi
}

mount_data_disk
install_docker
write_secrets
start_docker
deploy_stack
log "stack is up"
