#!/usr/bin/env bash
# test.sh is `make test`: every package's tests, with every engine's acceptance suite against a real
# server, on a fresh machine.
#
#   1. scripts/docker-up.sh      a Docker engine (started, and installed with apt, if need be)
#   2. scripts/test-images.sh    the server images (official ones, or local substitutes built once)
#   3. go vet ./... and staticcheck ./...   (staticcheck pinned as a tool in go.mod; go vet also in
#                                the other modules: tools/ferretdb, contrib/sqlite)
#   4. go test -race ./...       with a generous -timeout, then contrib/sqlite's tests (its own module)
#
# Containers of this run carry the label org.goeventstore.test.run=<run id> and are removed on exit,
# also when a test binary panics or is killed. Without Docker the server-backed tests skip with a
# line saying how to enable them; EVENTSTORE_TEST_REQUIRE=all (set by .ci/run in CI) makes such a
# skip a failure. Extra arguments go to `go test` (e.g. scripts/test.sh -run Acceptance).
# See docs/testing.md.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
say() { echo "test: $*" >&2; }

# REQUIRED here: only loopback is ever dialled, and there is no reaper image to pull.
export TESTCONTAINERS_HOST_OVERRIDE=${TESTCONTAINERS_HOST_OVERRIDE:-127.0.0.1}
export TESTCONTAINERS_RYUK_DISABLED=${TESTCONTAINERS_RYUK_DISABLED:-true}
export EVENTSTORE_TEST_RUN=${EVENTSTORE_TEST_RUN:-$$-$(date +%s)}
# internal/testserver appends here every skip for want of a server; printed at the end.
mkdir -p .cache
export EVENTSTORE_TEST_SKIPLOG="$root/.cache/skips-$EVENTSTORE_TEST_RUN.log"

have_docker=0
cleanup() {
	if [[ -s "$EVENTSTORE_TEST_SKIPLOG" ]]; then
		say "SKIPPED for want of a server (set EVENTSTORE_TEST_REQUIRE=all to make these failures):"
		sed "s|^$root/||" "$EVENTSTORE_TEST_SKIPLOG" | sort | uniq -c | sed 's/^ */  /' >&2
	fi
	rm -f "$EVENTSTORE_TEST_SKIPLOG"
	((have_docker)) || return 0
	local ids
	ids=$(docker ps -aq --filter "label=org.goeventstore.test.run=$EVENTSTORE_TEST_RUN" 2>/dev/null) || return 0
	if [[ -n "$ids" ]]; then
		say "removing $(wc -w <<<"$ids") container(s) left by this run"
		docker rm -f -v $ids >/dev/null 2>&1 || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t0=$SECONDS
# Exit status 3 from either script: a tool it needs is missing and could not be installed. That
# stops the run at once (the script named the tool); a later test failure would only hide it.
docker_status=0
scripts/docker-up.sh || docker_status=$?
if ((docker_status == 3)); then
	exit 3
fi
if ((docker_status == 0)); then
	have_docker=1
	# A failed build leaves that engine's image absent: its tests then skip, or fail if required.
	images_status=0
	scripts/test-images.sh || images_status=$?
	if ((images_status == 3)); then
		exit 3
	elif ((images_status != 0)); then
		say "some images could not be built (see above)"
		if [[ -n "${EVENTSTORE_TEST_REQUIRE:-}" ]]; then
			say "EVENTSTORE_TEST_REQUIRE=$EVENTSTORE_TEST_REQUIRE: stopping here"
			exit 1
		fi
	fi
	if [[ -f .cache/test-images.env ]]; then
		# shellcheck disable=SC1091
		source .cache/test-images.env
	fi
else
	say "no Docker engine: server-backed tests will skip (EVENTSTORE_TEST_REQUIRE=${EVENTSTORE_TEST_REQUIRE:-} decides)"
fi
say "servers ready after $((SECONDS - t0)) s"

say "go vet ./... and staticcheck ./..."
go vet ./...
go tool staticcheck ./...
(cd tools/ferretdb && go vet ./...)
(cd contrib/sqlite && go vet ./... && go tool -modfile=../../go.mod staticcheck ./...)

say "go test -race ./... ${EVENTSTORE_TEST_REQUIRE:+(EVENTSTORE_TEST_REQUIRE=$EVENTSTORE_TEST_REQUIRE)}"
go test -race -count=1 -timeout "${EVENTSTORE_TEST_TIMEOUT:-30m}" "$@" ./...
say "contrib/sqlite: go test -race ./... (a third-party engine, in its own module)"
(cd contrib/sqlite && go test -race -count=1 -timeout "${EVENTSTORE_TEST_TIMEOUT:-30m}" "$@" ./...)
say "done in $((SECONDS - t0)) s"
