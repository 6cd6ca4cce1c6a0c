#!/usr/bin/env bash
# docker-up.sh makes sure a Docker engine answers on this machine.
#
# If `docker info` already works it does nothing. Otherwise, when it runs as root, it installs the
# engine with apt if it is missing (package docker.io) and starts `dockerd --storage-driver=vfs` in the
# background (the vfs driver works inside containers and on any file system). It prints one line
# saying what it did, and exits non-zero if no engine answers in the end (the tests then skip the
# server-backed suites, or fail when EVENTSTORE_TEST_REQUIRE asks for them).
#
# Environment: EVENTSTORE_DOCKER_AUTOSTART=0 forbids installing or starting anything.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
log="$root/.cache/dockerd.log"

say() { echo "docker-up: $*" >&2; }

if docker info >/dev/null 2>&1; then
	say "a Docker engine is running"
	exit 0
fi
if [[ "${EVENTSTORE_DOCKER_AUTOSTART:-1}" == 0 ]]; then
	say "no Docker engine answers and EVENTSTORE_DOCKER_AUTOSTART=0: not starting one"
	exit 1
fi
if [[ $(id -u) != 0 ]]; then
	say "no Docker engine answers, and starting one needs root: start dockerd yourself"
	exit 1
fi

# shellcheck source=need.sh
source "$root/scripts/need.sh"
need dockerd docker.io
if ! command -v docker >/dev/null 2>&1; then
	say "dockerd is installed but the docker client is missing"
	exit 1
fi

mkdir -p "$(dirname "$log")"
say "starting dockerd --storage-driver=vfs (log: $log)"
nohup dockerd --storage-driver=vfs >>"$log" 2>&1 </dev/null &
for _ in $(seq 1 60); do
	if docker info >/dev/null 2>&1; then
		say "dockerd is up (pid $!)"
		exit 0
	fi
	sleep 1
done
say "dockerd did not answer within 60 s; see $log"
exit 1
