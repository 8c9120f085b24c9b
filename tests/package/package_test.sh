#!/usr/bin/env bash
# The Debian package's life, in a clean Debian 12 root: install, start, upgrade with data kept,
# remove (data kept), purge (data gone). Needs root (chroot, mount) and Debian's apt mirror.
#   tests/package/package_test.sh prepare             debootstrap the clean root once (cached
#                                                     in build/package-test/; ./dev test runs it
#                                                     beside the build)
#   tests/package/package_test.sh run BINARY          build the package from BINARY with
#                                                     deploy/debian/ and walk it through its life;
#                                                     then build deploy/container/Containerfile
#                                                     on it (buildah, in that root) and run it
# systemd cannot run in a chroot, so the test starts what the installed unit says: its ExecStart,
# as its User and Group, with its EnvironmentFile, in its WorkingDirectory; and checks the unit
# with `systemd-analyze verify`. ./dev test packs the binary the tests just ran (ASan+UBSan, so
# Depends then names libasan/libubsan); `./dev package` packs the release build the same way.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT_DIR=$PWD
CACHE=$ROOT_DIR/build/package-test
BASE=$CACHE/bookworm-minbase.tar

step() { printf '\033[1m[package-test]\033[0m %s\n' "$*" >&2; }
fail() { printf '\033[1m[package-test] FAILED:\033[0m %s\n' "$*" >&2; exit 1; }

prepare() {
  [ -f "$BASE" ] && return 0
  mkdir -p "$CACHE"
  local mirror tmp
  mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  tmp=$(mktemp -d "$CACHE/debootstrap.XXXXXX")
  step "debootstrap --variant=minbase bookworm (once; log in $CACHE/debootstrap.log)"
  if ! debootstrap --variant=minbase bookworm "$tmp" ${mirror:+"$mirror"} \
      >"$CACHE/debootstrap.log" 2>&1; then
    rm -rf "$tmp"
    fail "debootstrap failed (see $CACHE/debootstrap.log)"
  fi
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    cp /etc/apt/sources.list.d/debian.sources "$tmp/etc/apt/sources.list.d/"
    rm -f "$tmp/etc/apt/sources.list"
  fi
  tar -C "$tmp" -cf "$BASE.partial" . && mv "$BASE.partial" "$BASE"
  rm -rf "$tmp"
}

ROOT=""
SERVER_PID=""
cleanup() {
  stop_server || true
  if [ -n "$ROOT" ]; then
    umount -l "$ROOT/proc" 2>/dev/null || true
    umount -l "$ROOT/dev" 2>/dev/null || true
    umount -l "$ROOT" 2>/dev/null || true
    # Never through a bind mount into the machine's /dev.
    if mountpoint -q "$ROOT/dev" || mountpoint -q "$ROOT/proc"; then
      echo "package-test: $ROOT is still mounted; left in place" >&2
    else
      rm -rf --one-file-system "$ROOT"
    fi
  fi
}

in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"; }

apt_in_root() {
  in_root env DEBIAN_FRONTEND=noninteractive apt-get -qq -o Dpkg::Use-Pty=0 "$@" \
    >>"$CACHE/apt.log" 2>&1 || fail "apt-get $* failed (see $CACHE/apt.log)"
}

unit_value() { sed -n "s/^$1=//p" "$ROOT/lib/systemd/system/keybridge.service" | head -1; }

# Starts what the unit starts, the way systemd would (minus its sandbox), and waits for /readyz.
PORT=""
start_server() {
  local user group env_file work_dir exec_start
  user=$(unit_value User)
  group=$(unit_value Group)
  env_file=$(unit_value EnvironmentFile)
  work_dir=$(unit_value WorkingDirectory)
  exec_start=$(unit_value ExecStart)
  [ -n "$user" ] && [ -n "$exec_start" ] || fail "the unit names no User or ExecStart"
  local vars=()
  mapfile -t vars < <(grep -E '^[A-Z_][A-Z0-9_]*=' "$ROOT$env_file")
  # The sanitizers' leak check needs ptrace of its own threads, which a chroot may not allow;
  # ctest runs every leak check already.
  chroot --userspec="$user:$group" "$ROOT" /usr/bin/env -i PATH=/usr/bin:/bin \
    ASAN_OPTIONS=detect_leaks=0 "${vars[@]}" \
    /bin/sh -c "cd '$work_dir' && exec $exec_start" >>"$CACHE/server.log" 2>&1 &
  SERVER_PID=$!
  curl -fs --retry 30 --retry-connrefused --retry-max-time 60 -o /dev/null \
    "http://127.0.0.1:$PORT/readyz" || fail "/readyz did not answer 200 (see $CACHE/server.log)"
}

stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  local rc=0
  wait "$SERVER_PID" || rc=$?
  SERVER_PID=""
  [ "$rc" = 0 ] || fail "keybridge exited $rc on SIGTERM (systemd would count a failure)"
}

api() {  # METHOD PATH TOKEN [JSON] -> status in $STATUS, body in $BODY
  STATUS=$(curl -sS -o "$CACHE/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $3" \
    ${4:+-H 'Content-Type: application/json' --data "$4"} "http://127.0.0.1:$PORT$2")
  BODY=$(cat "$CACHE/body")
}

expect_mode() {  # PATH "MODE USER:GROUP"
  local got
  got=$(in_root stat -c "%a %U:%G" "$1" 2>/dev/null || echo missing)
  [ "$got" = "$2" ] || fail "$1 is '$got', expected '$2'"
}

run() {
  local bin=${1:?usage: package_test.sh run BINARY}
  command -v dpkg-deb >/dev/null || fail "dpkg-deb is missing"
  prepare
  local version debs
  version=$("$bin" --version | awk '{print $NF}')
  debs=$CACHE/debs
  rm -rf "$debs" && mkdir -p "$debs"
  step "building the packages ($version~previous and $version) from $bin"
  local previous current
  export KEYBRIDGE_DEB_COMPRESSION="-Zgzip -z1"
  previous=$(deploy/debian/build-package.sh "$bin" "$debs" "$version~previous")
  current=$(deploy/debian/build-package.sh "$bin" "$debs")

  trap cleanup EXIT
  ROOT=$(mktemp -d "$CACHE/root.XXXXXX")
  tar -C "$ROOT" -xf "$BASE"
  chmod 755 "$ROOT"
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
  # The root a mount point of its own: buildah (the image step) makes "/" private in its mount
  # namespace, which fails where "/" is a mere directory (as in a chroot, such as fresh-debian's).
  mount --bind "$ROOT" "$ROOT"
  mount --bind /dev "$ROOT/dev"
  mount -t proc proc "$ROOT/proc"
  cp "$previous" "$current" "$ROOT/tmp/"
  : >"$CACHE/server.log"
  : >"$CACHE/apt.log"

  step "install $version~previous (apt resolves Depends) and systemd, to check the unit"
  apt_in_root update
  apt_in_root install -y --no-install-recommends "/tmp/$(basename "$previous")" systemd
  # --man=no: the minimal root has no man-db to resolve Documentation=man:keybridge(1).
  in_root systemd-analyze verify --man=no /lib/systemd/system/keybridge.service \
    || fail "systemd-analyze verify rejects the unit"
  [ -L "$ROOT/etc/systemd/system/multi-user.target.wants/keybridge.service" ] \
    || fail "the unit was not enabled on install"
  in_root getent passwd keybridge >/dev/null || fail "no keybridge user"
  expect_mode /etc/keybridge/keybridge.env "640 root:keybridge"
  expect_mode /var/lib/keybridge "700 keybridge:keybridge"
  [ -L "$ROOT/usr/bin/docker-credential-keybridge" ] || fail "no docker-credential-keybridge"
  zcat "$ROOT/usr/share/man/man1/keybridge.1.gz" | grep -q -- '--integrations-file' \
    || fail "the man page lacks serve's flags"

  # An administrator's edit of the conffile: a free port, which must survive the upgrade.
  PORT=$(shuf -i 20000-60000 -n 1)
  while (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do PORT=$(shuf -i 20000-60000 -n 1); done
  sed -i "s/^KEYBRIDGE_LISTEN=.*/KEYBRIDGE_LISTEN=127.0.0.1:$PORT/" "$ROOT/etc/keybridge/keybridge.env"

  step "start the unit's command line; /readyz; an admin token and an integration"
  start_server
  expect_mode /var/lib/keybridge/keybridge.key "600 keybridge:keybridge"
  local token
  token=$(in_root keybridgectl tokens create --user admin --admin --name package-test \
    2>>"$CACHE/server.log")
  [ -n "$token" ] || fail "keybridgectl tokens create printed no token"
  api POST /api/data/oauth2/providers "$token" \
    '{"id":"company-gitlab","kind":"gitlab","client_id":"kb-client","client_secret":"kb-secret",
      "display_name":"Company GitLab","scope":"read_user read_repository",
      "url":"https://gitlab.example.org"}'
  [ "$STATUS" = 201 ] || fail "creating an integration answered $STATUS: $BODY"
  # An integrations file an administrator keeps in /etc/keybridge, its secret readable by the
  # service's group only, applied with keybridgectl.
  printf 'secret-of-file-gitlab\n' >"$ROOT/etc/keybridge/file-gitlab.secret"
  in_root chown root:keybridge /etc/keybridge/file-gitlab.secret
  in_root chmod 0640 /etc/keybridge/file-gitlab.secret
  cat >"$ROOT/etc/keybridge/integrations.json" <<'JSON'
{"integrations": [{"id": "file-gitlab", "kind": "gitlab", "display_name": "From the file",
  "url": "https://gitlab.example.org", "client_id": "file-client", "scope": "read_repository",
  "client_secret_file": "file-gitlab.secret"}]}
JSON
  in_root keybridgectl integrations apply -f /etc/keybridge/integrations.json \
    >>"$CACHE/server.log" 2>&1 || fail "keybridgectl integrations apply failed (see server.log)"
  api GET /api/data/oauth2/providers/file-gitlab "$token"
  [ "$STATUS" = 200 ] || fail "the integration applied from the file answered $STATUS"
  stop_server

  step "upgrade to $version: configuration and data kept"
  in_root dpkg -i "/tmp/$(basename "$current")" >/dev/null
  [ "$(in_root dpkg-query -W -f='${Version}' keybridge)" = "$version" ] || fail "not upgraded"
  grep -q "^KEYBRIDGE_LISTEN=127.0.0.1:$PORT$" "$ROOT/etc/keybridge/keybridge.env" \
    || fail "the upgrade replaced the administrator's keybridge.env"
  expect_mode /etc/keybridge/keybridge.env "640 root:keybridge"
  start_server
  api GET /api/data/oauth2/providers/company-gitlab "$token"
  [ "$STATUS" = 200 ] || fail "after the upgrade the integration answered $STATUS"
  grep -q '"display_name":"Company GitLab"' <<<"$BODY" || fail "the integration changed: $BODY"
  stop_server

  step "remove: the program goes, the data and configuration stay"
  in_root dpkg --remove keybridge >/dev/null
  [ ! -e "$ROOT/usr/bin/keybridge" ] || fail "/usr/bin/keybridge is still there after remove"
  [ -f "$ROOT/var/lib/keybridge/keybridge.key" ] || fail "remove deleted the key file"
  [ -f "$ROOT/var/lib/keybridge/keybridge.db" ] || fail "remove deleted the database"
  [ -f "$ROOT/etc/keybridge/keybridge.env" ] || fail "remove deleted the configuration"

  step "install again: the same data; then purge: everything goes"
  in_root dpkg -i "/tmp/$(basename "$current")" >/dev/null
  start_server
  api GET /api/data/oauth2/providers/company-gitlab "$token"
  [ "$STATUS" = 200 ] || fail "after remove and install the integration answered $STATUS"
  stop_server
  in_root dpkg --purge keybridge >/dev/null
  [ ! -e "$ROOT/var/lib/keybridge" ] || fail "purge left /var/lib/keybridge"
  [ ! -e "$ROOT/etc/keybridge/keybridge.env" ] || fail "purge left keybridge.env"
  [ -f "$ROOT/etc/keybridge/integrations.json" ] || fail "purge deleted the administrator's file"
  [ ! -e "$ROOT/etc/systemd/system/multi-user.target.wants/keybridge.service" ] \
    || fail "purge left the unit enabled"
  if in_root dpkg-statoverride --list /etc/keybridge/keybridge.env >/dev/null; then
    fail "purge left the statoverride"
  fi
  step "ok: install, start, upgrade, remove, reinstall, purge"
  image "$current"
}

# The container image: deploy/container/Containerfile built with buildah on the package, inside the
# clean root (buildah installed there, with its own store: never the machine's), then run as the
# image says (its USER, WORKDIR and ENTRYPOINT; only the listen address differs, so that the test
# never takes the host's port 8080) until /readyz answers. Docker Hub is not reachable here: the
# base `debian:bookworm-slim` is stood in for by the same release's debootstrap minbase.
image() {
  local deb=$1 base_ctr ctr
  step "the container image: build deploy/container/Containerfile, run it, /readyz"
  apt_in_root install -y --no-install-recommends buildah
  buildah_() { in_root buildah --storage-driver vfs "$@"; }
  cp "$BASE" "$ROOT/tmp/bookworm-minbase.tar"
  base_ctr=$(buildah_ from scratch)
  buildah_ add --quiet "$base_ctr" /tmp/bookworm-minbase.tar / >/dev/null
  buildah_ commit --quiet "$base_ctr" docker.io/library/debian:bookworm-slim >/dev/null
  buildah_ rm "$base_ctr" >/dev/null
  mkdir -p "$ROOT/tmp/context/build/package" "$ROOT/tmp/context/deploy/container"
  cp "$deb" "$ROOT/tmp/context/build/package/"
  cp deploy/container/Containerfile "$ROOT/tmp/context/deploy/container/"
  cp .dockerignore "$ROOT/tmp/context/"
  buildah_ bud --quiet --isolation chroot --pull=never -f deploy/container/Containerfile \
    -t localhost/keybridge:package-test /tmp/context >>"$CACHE/apt.log" 2>&1 \
    || fail "buildah could not build the Containerfile (see $CACHE/apt.log)"
  local entrypoint
  entrypoint=$(buildah_ inspect --type image --format '{{.OCIv1.Config.Entrypoint}}' \
    localhost/keybridge:package-test)
  [ "$entrypoint" = '[/usr/bin/keybridge]' ] || fail "the image's ENTRYPOINT is $entrypoint"
  ctr=$(buildah_ from --pull=never localhost/keybridge:package-test)
  [ "$(buildah_ run --isolation chroot "$ctr" -- id -u)" = 10001 ] \
    || fail "the image does not run as uid 10001 (deploy/kubernetes runs it so)"
  PORT=$(shuf -i 20000-60000 -n 1)
  while (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do PORT=$(shuf -i 20000-60000 -n 1); done
  buildah_ run --isolation chroot --env ASAN_OPTIONS=detect_leaks=0 "$ctr" -- \
    /usr/bin/keybridge serve --listen "127.0.0.1:$PORT" >>"$CACHE/server.log" 2>&1 &
  SERVER_PID=$!
  curl -fs --retry 30 --retry-connrefused --retry-max-time 60 -o /dev/null \
    "http://127.0.0.1:$PORT/readyz" || fail "the image's /readyz did not answer 200"
  # buildah does not pass SIGTERM on (it kills its child): signal keybridge itself, as a
  # container runtime would, and expect buildah to report its clean exit.
  pkill -TERM -f "^/usr/bin/keybridge serve --listen 127.0.0.1:$PORT\$" \
    || fail "keybridge is not running in the container"
  local rc=0
  wait "$SERVER_PID" || rc=$?
  SERVER_PID=""
  [ "$rc" = 0 ] || fail "keybridge in the container exited $rc on SIGTERM"
  step "ok: the image builds, runs as 10001 and is ready"
}

case "${1:-}" in
  prepare) prepare ;;
  run) shift; run "$@" ;;
  *) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
