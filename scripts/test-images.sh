#!/usr/bin/env bash
# test-images.sh makes sure every server image the engine tests need is present in the Docker engine.
#
# For each server kind (MongoDB, FerretDB on PostgreSQL, MySQL, MariaDB, S3, SeaweedFS, Azure Table
# Storage) it uses, in this
# order:
#   1. nothing, if EVENTSTORE_<KIND>_URL names an already-running server;
#   2. EVENTSTORE_<KIND>_IMAGE if you set it (pulled if absent);
#   3. the official image (mongo, mysql, mariadb, MinIO's, SeaweedFS's, Azurite's) if present or if
#      `docker pull` works;
#   4. otherwise a local substitute, built here once and reused by later runs:
#        MongoDB -> goeventstore/ferretdb:1.24.0-sqlite  (FerretDB embedded, SQLite; tools/ferretdb)
#        FerretPG -> goeventstore/ferretdb:1.24.0-postgresql (the same launcher on Debian bookworm's
#                    PostgreSQL 15, in one image; there is no official image of this kind)
#        MySQL   -> goeventstore/mysql:9.7               (Oracle MySQL 9.7 from Debian sid)
#        MariaDB -> goeventstore/mariadb:10.11           (Debian bookworm's MariaDB)
#        S3      -> goeventstore/minio:local              (MinIO built from source)
#        SeaweedFS -> goeventstore/seaweedfs:4.53         (SeaweedFS's weed built from source; tools/seaweedfs)
#        Azure   -> goeventstore/azurite:3.37.0           (Azurite from npm on Debian's Node)
# It writes the choices to .cache/test-images.env (EVENTSTORE_<KIND>_IMAGE=...) for scripts/test.sh
# to source, and prints one line per engine saying what it did.
#
# The substitutes need only the Go module proxy, the Debian mirror of this machine's apt sources
# and the npm registry. Build caches live in .cache/ (gitignored).
#
# Environment: EVENTSTORE_TEST_PULL=0 skips pull attempts; EVENTSTORE_DEBIAN_MIRROR overrides the
# mirror; EVENTSTORE_TEST_REBUILD=1 rebuilds the substitutes.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache="$root/.cache/images"
envfile="$root/.cache/test-images.env"
mkdir -p "$cache"
# shellcheck source=need.sh
source "$root/scripts/need.sh"
need docker docker.io
need flock util-linux
need sha256sum coreutils

# One build at a time on this machine (several clones may run their tests at once).
exec 9>"${TMPDIR:-/tmp}/goeventstore-test-images.lock"
flock 9

# Keep these in step with internal/testserver (kinds.go).
official_mongo=mongo:8.0
official_ferretpg= # none: FerretDB's images hold no PostgreSQL, so the substitute is the image
official_mysql=mysql:8.4
official_mariadb=mariadb:10.11
official_s3=minio/minio:RELEASE.2025-04-22T22-12-26Z
official_seaweedfs=chrislusf/seaweedfs:4.53
official_azure=mcr.microsoft.com/azure-storage/azurite:3.37.0

sub_mongo=goeventstore/ferretdb:1.24.0-sqlite
sub_ferretpg=goeventstore/ferretdb:1.24.0-postgresql
sub_mysql=goeventstore/mysql:9.7
sub_mariadb=goeventstore/mariadb:10.11
sub_s3=goeventstore/minio:local
sub_seaweedfs=goeventstore/seaweedfs:4.53 # the version tools/seaweedfs/go.mod pins
sub_azure=goeventstore/azurite:3.37.0

minio_version=v0.0.0-20260212201848-7aac2a2c5b7c
azurite_version=3.37.0
recipe=1 # bump to rebuild every substitute

say() { echo "test-images: $*" >&2; }
present() { docker image inspect "$1" >/dev/null 2>&1; }
pull() {
	[[ "${EVENTSTORE_TEST_PULL:-1}" != 0 ]] || return 1
	timeout 120 docker pull -q "$1" >/dev/null 2>&1
}
# fresh IMAGE KEY: the image exists and was built from the recipe with this key.
fresh() {
	[[ "${EVENTSTORE_TEST_REBUILD:-0}" != 1 ]] || return 1
	local got
	got=$(docker image inspect -f '{{index .Config.Labels "org.goeventstore.recipe"}}' "$1" 2>/dev/null) || return 1
	[[ "$got" == "$2" ]]
}

# ---- builders ---------------------------------------------------------------------------------

key_ferretdb() { cat "$root"/tools/ferretdb/{go.mod,go.sum,main.go} | sha256sum | cut -c1-16; }
key_minio() { echo "$recipe-$minio_version"; }
key_seaweedfs() { cat "$root"/tools/seaweedfs/{go.mod,go.sum} | sha256sum | cut -c1-16; }
key_debian() { echo "$recipe-$azurite_version-$(sed -n '/^build_debian()/,/^}/p;/^import_rootfs()/,/^}/p' "$0" | sha256sum | cut -c1-16)"; }
key_ferretpg() { echo "$recipe-$(key_ferretdb)-$(sed -n '/^build_ferretpg()/,/^}/p;/^import_rootfs()/,/^}/p' "$0" | sha256sum | cut -c1-16)"; }
key_mysql() { echo "$recipe-$(sed -n '/^build_mysql()/,/^}/p;/^import_rootfs()/,/^}/p' "$0" | sha256sum | cut -c1-16)"; }

# scratch_image TAG KEY DIR BINARY ENTRYPOINT...: a FROM scratch image holding one static binary.
scratch_image() {
	local tag=$1 key=$2 dir=$3 bin=$4
	shift 4
	local ep
	ep=$(printf '"%s",' "$@")
	mkdir -p "$dir/empty"
	cat >"$dir/Dockerfile" <<DOCKERFILE
FROM scratch
COPY $bin /$bin
COPY empty /data
COPY empty /tmp
ENV HOME=/tmp
LABEL org.goeventstore.recipe="$key"
ENTRYPOINT [${ep%,}]
DOCKERFILE
	local old
	old=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null) || true
	DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$dir" >/dev/null 2>"$dir/build.log" || { cat "$dir/build.log" >&2; return 1; }
	drop_old "$tag" "$old"
}

build_ferretdb() {
	local dir="$cache/ferretdb"
	mkdir -p "$dir"
	(cd "$root/tools/ferretdb" && CGO_ENABLED=0 go build -trimpath -o "$dir/ferretdb" .)
	scratch_image "$sub_mongo" "$(key_ferretdb)" "$dir" ferretdb /ferretdb -listen 0.0.0.0:27017 -dir /data
}

build_minio() {
	local dir="$cache/minio"
	mkdir -p "$dir"
	if [[ ! -x "$dir/minio" || "$(cat "$dir/version" 2>/dev/null)" != "$minio_version" ]]; then
		GOBIN="$dir" CGO_ENABLED=0 GOFLAGS= go install -trimpath "github.com/minio/minio@$minio_version"
		echo "$minio_version" >"$dir/version"
	fi
	scratch_image "$sub_s3" "$(key_minio)" "$dir" minio /minio
}

# build_seaweedfs: SeaweedFS's `weed` (master, volume server, filer and S3 gateway in one binary) at the
# version tools/seaweedfs/go.mod pins. The binary is kept in .cache and rebuilt only when that module
# changes (a warm Go build cache still spends about a minute relinking it).
build_seaweedfs() {
	local dir="$cache/seaweedfs" key
	key=$(key_seaweedfs)
	mkdir -p "$dir"
	if [[ ! -x "$dir/weed" || "$(cat "$dir/key" 2>/dev/null)" != "$key" ]]; then
		(cd "$root/tools/seaweedfs" &&
			CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags="-s -w" -o "$dir/weed" github.com/seaweedfs/seaweedfs/weed) \
			>"$dir/build.log" 2>&1 || { tail -20 "$dir/build.log" >&2; return 1; }
		echo "$key" >"$dir/key"
	fi
	scratch_image "$sub_seaweedfs" "$key" "$dir" weed /weed
}

debian_mirror() {
	if [[ -n "${EVENTSTORE_DEBIAN_MIRROR:-}" ]]; then
		echo "$EVENTSTORE_DEBIAN_MIRROR"
		return
	fi
	local m
	m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
		grep -oE '(https?|file)://[^ ]+/debian/?( |$)' | grep -v -- '-security' | head -1 | tr -d ' ') || true
	[[ -n "$m" ]] || { say "no Debian mirror in the apt sources; set EVENTSTORE_DEBIAN_MIRROR"; return 1; }
	echo "$m"
}

# build_debian: ONE Debian (bookworm) root file system with MariaDB, Node.js and Azurite, from which two slim
# images are imported (no layers: the vfs storage driver copies every layer whole, and every
# container's file system too, so each image holds only what its server needs).
build_debian() {
	local dir="$cache/debian" rootfs="$cache/debian/rootfs" mirror suite=bookworm
	mirror=$(debian_mirror)
	remove_rootfs "$rootfs"
	mkdir -p "$dir/debs"
	say "debootstrap $suite from $mirror (MariaDB, Node.js; about 2 min)"
	debootstrap --variant=minbase --cache-dir="$dir/debs" --include=mariadb-server,nodejs \
		"$suite" "$rootfs" "$mirror" >"$dir/debootstrap.log" 2>&1 ||
		{ tail -20 "$dir/debootstrap.log" >&2; return 1; }
	say "npm install azurite@$azurite_version into the root file system"
	npm install --silent --no-audit --no-fund --omit=dev --prefix "$rootfs/opt/azurite" "azurite@$azurite_version" >"$dir/npm.log" 2>&1 ||
		{ tail -20 "$dir/npm.log" >&2; return 1; }
	# Node loads only the CommonJS builds: drop source maps, type declarations and the ESM and
	# browser builds (365 MB -> about 110 MB, copied for every container by the vfs driver).
	(cd "$rootfs/opt/azurite/node_modules" &&
		find . -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.md' \) -delete &&
		find . -type d \( -path '*/build/esm' -o -path '*/build/esnext' -o -path '*/dist/esm' -o -path '*/dist/browser' \
			-o -path '*/dist/react-native' \) -prune -exec rm -rf {} +)
	for b in azurite azurite-table azurite-blob azurite-queue; do
		ln -sf "/opt/azurite/node_modules/.bin/$b" "$rootfs/usr/local/bin/$b"
	done
	cat >"$rootfs/usr/local/bin/mariadb-test-server" <<'SH'
#!/bin/sh
# Throw-away MariaDB for tests: root over TCP without a password.
set -e
mkdir -p /run/mysqld
chown mysql:mysql /run/mysqld
chown mysql:mysql /var/lib/mysql
# The data directory starts empty (the image is smaller: the vfs storage driver copies it for every
# container): InnoDB creates its files, and no system tables are needed without grant tables.
exec mariadbd --user=mysql --skip-grant-tables --bind-address=0.0.0.0 --skip-name-resolve \
	--innodb-log-file-size=16M "$@"
SH
	chmod +x "$rootfs/usr/local/bin/mariadb-test-server"
	(cd "$rootfs" && rm -rf usr/share/doc usr/share/man usr/share/info usr/share/locale usr/share/lintian \
		var/cache/apt var/lib/apt/lists var/cache/debconf/*-old var/log/* var/lib/dpkg/info/*.md5sums)

	# What each server does not need (paths relative to the root file system).
	local node_only=(./opt/azurite ./usr/bin/node ./usr/bin/nodejs ./usr/share/nodejs ./usr/include/node
		'./usr/lib/x86_64-linux-gnu/libnode*' './usr/lib/x86_64-linux-gnu/libicu*' './usr/share/icu'
		'./usr/lib/x86_64-linux-gnu/libuv*' './usr/lib/x86_64-linux-gnu/libcares*' './usr/lib/x86_64-linux-gnu/libbrotli*')
	local mariadb_only=(./usr/sbin/mariadbd ./usr/lib/mysql ./var/lib/mysql ./usr/share/mysql ./usr/share/mariadb
		'./usr/bin/mariadb*' './usr/bin/mysql*' './usr/bin/myisam*' './usr/bin/aria_*' ./usr/lib/galera ./usr/share/galera
		'./usr/lib/x86_64-linux-gnu/libmariadb*' ./etc/mysql)
	local perl=('./usr/bin/perl*' './usr/share/perl*' './usr/lib/x86_64-linux-gnu/perl*')
	say "docker import (two slim images)"
	import_rootfs "$rootfs" "$(key_debian)" "$sub_mariadb" 'CMD ["/usr/local/bin/mariadb-test-server"]' 'EXPOSE 3306' "${node_only[@]}" "${perl[@]}" \
		'./var/lib/mysql/*' './usr/bin/mariadb*' './usr/bin/mysql*' './usr/bin/myisam*' './usr/bin/aria_*' ./usr/lib/galera
	import_rootfs "$rootfs" "$(key_debian)" "$sub_azure" 'CMD ["azurite-table", "--tableHost", "0.0.0.0", "--location", "/tmp"]' 'EXPOSE 10002' \
		"${mariadb_only[@]}" "${perl[@]}"
	remove_rootfs "$rootfs"
}

# build_mysql: Oracle MySQL 9.7 from Debian sid (Debian's stable suites have no mysql-server), in a
# root file system of its own, imported as ONE image. The data directory is initialized here, once,
# not at every container start: `mysqld --initialize` takes seconds, while the vfs driver copies the
# initialized files (about 75 MB, with an 8 MB redo log) in well under one. The server then runs
# with the default redo log capacity (100 MB, created at start) like the official image: a small
# one stalls writers. --skip-grant-tables would turn networking off on MySQL 8+, so root@'%' (no
# password) is created through --init-file.
build_mysql() {
	local dir="$cache/mysql" rootfs="$cache/mysql/rootfs" mirror suite=sid
	mirror=$(debian_mirror)
	remove_rootfs "$rootfs"
	mkdir -p "$dir/debs"
	say "debootstrap $suite from $mirror (Oracle MySQL; about 1.5 min; sid prints warnings but finishes)"
	debootstrap --variant=minbase --cache-dir="$dir/debs" --include=mysql-server \
		"$suite" "$rootfs" "$mirror" >"$dir/debootstrap.log" 2>&1 ||
		{ tail -20 "$dir/debootstrap.log" >&2; return 1; }
	# Debian logs to a file; without that line mysqld logs to stderr (the container's log). Its
	# `--log-error=/dev/stderr` would abort instead.
	sed -i '/^[[:space:]]*log[_-]error/d' "$rootfs/etc/mysql/mysql.conf.d/mysqld.cnf"
	cat >"$rootfs/etc/mysql/mysql.conf.d/zz-eventstore-test.cnf" <<'CNF'
# Throw-away MySQL for tests (scripts/test-images.sh): root over TCP without a password.
[mysqld]
bind-address = 0.0.0.0
skip-name-resolve
mysqlx = OFF
CNF
	cat >"$rootfs/tmp/root.sql" <<'SQL'
CREATE USER 'root'@'%' IDENTIFIED BY '';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;
SQL
	# The package's postinst initialized a data directory with Debian's settings: start afresh.
	rm -rf "${rootfs:?}/var/lib/mysql" && mkdir -p "$rootfs/var/lib/mysql" "$rootfs/run/mysqld"
	chroot "$rootfs" chown mysql:mysql /var/lib/mysql /run/mysqld
	chroot "$rootfs" mysqld --initialize-insecure --user=mysql --init-file=/tmp/root.sql --innodb-redo-log-capacity=8M \
		>"$dir/initialize.log" 2>&1 ||
		{ tail -20 "$dir/initialize.log" >&2; return 1; }
	rm -f "$rootfs/tmp/root.sql"
	cat >"$rootfs/usr/local/bin/mysql-test-server" <<'SH'
#!/bin/sh
# Throw-away MySQL for tests: root@'%' without a password (data directory initialized in the image).
set -e
mkdir -p /run/mysqld
chown mysql:mysql /run/mysqld /var/lib/mysql
exec mysqld --user=mysql "$@"
SH
	chmod +x "$rootfs/usr/local/bin/mysql-test-server"
	(cd "$rootfs" && rm -rf usr/share/doc usr/share/man usr/share/info usr/share/locale usr/share/lintian \
		var/cache/apt var/lib/apt/lists var/cache/debconf/*-old var/log/* var/lib/dpkg/info/*.md5sums)
	# Of the plugins, mysqld loads one component at start; English error messages suffice.
	find "$rootfs/usr/lib/mysql/plugin" -mindepth 1 ! -name component_reference_cache.so -delete
	find "$rootfs/usr/share/mysql" -name errmsg.sys ! -path '*/english/*' -delete
	# mysqld needs none of the client tools or Perl (Debian's maintainer scripts use it).
	local tools=()
	local t
	for t in "$rootfs"/usr/bin/my* "$rootfs"/usr/bin/innochecksum "$rootfs"/usr/bin/ibd2sdi "$rootfs"/usr/bin/perror; do
		[[ "${t##*/}" == mysql ]] || tools+=("./usr/bin/${t##*/}")
	done
	say "docker import (one slim image)"
	import_rootfs "$rootfs" "$(key_mysql)" "$sub_mysql" 'CMD ["/usr/local/bin/mysql-test-server"]' 'EXPOSE 3306' \
		"${tools[@]}" './usr/bin/perl*' './usr/share/perl*' './usr/lib/x86_64-linux-gnu/perl*' \
		'./usr/lib/x86_64-linux-gnu/libperl*'
	remove_rootfs "$rootfs"
}

# build_ferretpg: FerretDB (the tools/ferretdb launcher, PostgreSQL handler) on Debian bookworm's
# PostgreSQL 15, in a root file system of its own, imported as ONE image. The database cluster is
# made here, once (initdb, trust authentication: a throw-away server reached only through FerretDB
# on the container's loopback); the container's command starts PostgreSQL, waits until it answers,
# then runs FerretDB on 27017. Durability is off (fsync, synchronous_commit, full_page_writes): it
# is a test server, and its figures are only ever read beside the plain driver's on the same server.
# Nothing runs the JIT, so LLVM and Z3 (dependencies of the package), Perl (Debian's cluster tools)
# and the locale sources are left out of the image, and WAL segments are 1 MB (the vfs storage driver
# copies the image for every container).
build_ferretpg() {
	local dir="$cache/ferretpg" rootfs="$cache/ferretpg/rootfs" mirror suite=bookworm pgbin=/usr/lib/postgresql/15/bin
	mirror=$(debian_mirror)
	remove_rootfs "$rootfs"
	mkdir -p "$dir/debs"
	say "debootstrap $suite from $mirror (PostgreSQL 15; about 1.5 min)"
	debootstrap --variant=minbase --cache-dir="$dir/debs" --include=postgresql-15 \
		"$suite" "$rootfs" "$mirror" >"$dir/debootstrap.log" 2>&1 ||
		{ tail -20 "$dir/debootstrap.log" >&2; return 1; }
	(cd "$root/tools/ferretdb" && CGO_ENABLED=0 go build -trimpath -o "$rootfs/usr/local/bin/ferretdb" .) ||
		return 1
	# Debian's cluster (made by the package, with its own configuration under /etc) is replaced by one
	# in /var/lib/postgresql/data that holds its whole configuration.
	rm -rf "${rootfs:?}/var/lib/postgresql/15" "$rootfs/etc/postgresql/15"
	mkdir -p "$rootfs/var/lib/postgresql/data" "$rootfs/run/postgresql"
	chroot "$rootfs" chown postgres:postgres /var/lib/postgresql/data /run/postgresql
	chroot "$rootfs" setpriv --reuid=postgres --regid=postgres --init-groups \
		"$pgbin/initdb" -D /var/lib/postgresql/data -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 --no-sync --wal-segsize=1 \
		>"$dir/initdb.log" 2>&1 || { tail -20 "$dir/initdb.log" >&2; return 1; }
	cat >>"$rootfs/var/lib/postgresql/data/postgresql.conf" <<'CONF'
# Throw-away PostgreSQL for tests (scripts/test-images.sh): loopback only, no durability, no JIT.
listen_addresses = '127.0.0.1'
unix_socket_directories = '/run/postgresql'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
jit = off
CONF
	cat >"$rootfs/usr/local/bin/ferretdb-postgresql" <<SH
#!/bin/sh
# Throw-away FerretDB on PostgreSQL for tests: PostgreSQL on the loopback, FerretDB on 0.0.0.0:27017.
set -e
mkdir -p /run/postgresql
chown postgres:postgres /run/postgresql /var/lib/postgresql/data
# After a stop the lock file of the killed postmaster remains; nothing else uses this cluster.
rm -f /var/lib/postgresql/data/postmaster.pid
setpriv --reuid=postgres --regid=postgres --init-groups $pgbin/postgres -D /var/lib/postgresql/data &
until $pgbin/pg_isready -q -h 127.0.0.1 -U postgres; do sleep 0.1; done
exec /usr/local/bin/ferretdb -handler postgresql -listen 0.0.0.0:27017 \
	-postgresql-url postgres://postgres@127.0.0.1:5432/postgres "\$@"
SH
	chmod +x "$rootfs/usr/local/bin/ferretdb-postgresql"
	(cd "$rootfs" && rm -rf usr/share/doc usr/share/man usr/share/info usr/share/locale usr/share/lintian \
		var/cache/apt var/lib/apt/lists var/cache/debconf/*-old var/log/* var/lib/dpkg/info/*.md5sums)
	say "docker import (one image)"
	import_rootfs "$rootfs" "$(key_ferretpg)" "$sub_ferretpg" 'CMD ["/usr/local/bin/ferretdb-postgresql"]' 'EXPOSE 27017' \
		'./usr/lib/llvm-*' './usr/lib/x86_64-linux-gnu/libLLVM*' './usr/lib/postgresql/15/lib/llvmjit*' \
		'./usr/lib/postgresql/15/lib/bitcode' './usr/bin/perl*' './usr/share/perl*' './usr/lib/x86_64-linux-gnu/perl*' \
		'./usr/lib/x86_64-linux-gnu/libperl*' './usr/lib/x86_64-linux-gnu/libz3*' './usr/share/i18n' \
		'./usr/share/postgresql/15/man' './usr/share/locale*'
	remove_rootfs "$rootfs"
}

# remove_rootfs DIR: unmounts what debootstrap may have left mounted inside DIR (after a failure:
# proc, sys, a bind of /dev), then removes DIR without ever crossing into another file system.
remove_rootfs() {
	local dir=$1 m
	[[ -d "$dir" ]] || return 0
	awk -v d="$dir/" 'index($2 "/", d) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null || true
	done
	rm -rf --one-file-system "$dir"
}

# import_rootfs ROOTFS KEY TAG CMD EXPOSE EXCLUDE...: the root file system ROOTFS without EXCLUDE,
# as one image labelled with the recipe KEY.
import_rootfs() {
	local rootfs=$1 key=$2 tag=$3 cmd=$4 expose=$5
	shift 5
	local ex=() p
	for p in "$@"; do ex+=("--exclude=$p"); done
	local old
	old=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null) || true
	tar -C "$rootfs" --wildcards "${ex[@]}" -c . | docker import \
		--change "$cmd" --change "$expose" \
		--change "LABEL org.goeventstore.recipe=$key" - "$tag" >/dev/null
	drop_old "$tag" "$old"
}

# drop_old TAG OLD_ID: removes the image TAG pointed to before a rebuild, unless a container uses it.
drop_old() {
	local now
	now=$(docker image inspect -f '{{.Id}}' "$1" 2>/dev/null) || return 0
	if [[ -n "$2" && "$2" != "$now" ]]; then
		docker rmi "$2" >/dev/null 2>&1 || true
	fi
}

# ---- choices ----------------------------------------------------------------------------------

declare -A chosen
needs_debian=0 needs_mysql=0 needs_ferretpg=0 needs_ferretdb=0 needs_minio=0 needs_seaweedfs=0

# choose KIND OFFICIAL SUBSTITUTE BUILDER
choose() {
	local kind=$1 official=$2 sub=$3 builder=$4 upper
	upper=${kind^^}
	local urlvar="EVENTSTORE_${upper}_URL" imgvar="EVENTSTORE_${upper}_IMAGE"
	if [[ -n "${!urlvar:-}" ]]; then
		say "$kind: $urlvar is set, no image needed"
		return
	fi
	if [[ -n "${!imgvar:-}" ]]; then
		local img=${!imgvar}
		if present "$img" || pull "$img"; then
			say "$kind: $img ($imgvar)"
		else
			say "$kind: $img ($imgvar) is absent and cannot be pulled"
		fi
		chosen[$kind]=$img
		return
	fi
	if [[ -n "$official" ]] && present "$official"; then
		say "$kind: $official (official, present)"
		return
	fi
	if [[ -n "$official" ]] && pull "$official"; then
		say "$kind: $official (official, pulled)"
		return
	fi
	chosen[$kind]=$sub
	case $builder in
	debian) needs_debian=1 ;;
	mysql) needs_mysql=1 ;;
	ferretdb) needs_ferretdb=1 ;;
	ferretpg) needs_ferretpg=1 ;;
	minio) needs_minio=1 ;;
	seaweedfs) needs_seaweedfs=1 ;;
	esac
}

choose mongo "$official_mongo" "$sub_mongo" ferretdb
choose ferretpg "$official_ferretpg" "$sub_ferretpg" ferretpg
choose mysql "$official_mysql" "$sub_mysql" mysql
choose mariadb "$official_mariadb" "$sub_mariadb" debian
choose s3 "$official_s3" "$sub_s3" minio
choose seaweedfs "$official_seaweedfs" "$sub_seaweedfs" seaweedfs
choose azure "$official_azure" "$sub_azure" debian

# ---- builds: the Debian root file system (network, disk) runs beside the Go builds (CPU) -------

# The tools the builds need, checked (and installed) before anything starts, so that a missing one
# stops the run at once with its name.
if ((needs_debian || needs_mysql || needs_ferretpg)); then
	need debootstrap
fi
if ((needs_debian)); then
	need npm
fi
if ((needs_mysql || needs_ferretpg)); then
	need chroot coreutils
fi

debian_pid=
if ((needs_debian)); then
	if fresh "$sub_mariadb" "$(key_debian)" && fresh "$sub_azure" "$(key_debian)"; then
		say "mariadb, azure: $sub_mariadb, $sub_azure (substitutes, built earlier)"
	else
		t0=$SECONDS
		(build_debian && say "mariadb, azure: built $sub_mariadb and $sub_azure in $((SECONDS - t0)) s") &
		debian_pid=$!
	fi
fi
# Oracle MySQL from sid, in a root file system of its own, beside the bookworm one.
mysql_pid=
if ((needs_mysql)); then
	if fresh "$sub_mysql" "$(key_mysql)"; then
		say "mysql: $sub_mysql (substitute, built earlier)"
	else
		t0=$SECONDS
		(build_mysql && say "mysql: built $sub_mysql in $((SECONDS - t0)) s") &
		mysql_pid=$!
	fi
fi
# FerretDB on PostgreSQL, in a root file system of its own, beside the others.
ferretpg_pid=
if ((needs_ferretpg)); then
	if fresh "$sub_ferretpg" "$(key_ferretpg)"; then
		say "ferretpg: $sub_ferretpg (substitute, built earlier)"
	else
		t0=$SECONDS
		(build_ferretpg && say "ferretpg: built $sub_ferretpg in $((SECONDS - t0)) s") &
		ferretpg_pid=$!
	fi
fi
# SeaweedFS's weed beside the MinIO and FerretDB compilations: the Go builds share the CPU, but each
# ends in a long single-threaded link that the others fill, and all of them overlap the Debian
# downloads.
seaweedfs_pid=
if ((needs_seaweedfs)); then
	if fresh "$sub_seaweedfs" "$(key_seaweedfs)"; then
		say "seaweedfs: $sub_seaweedfs (substitute, built earlier)"
	else
		t0=$SECONDS
		say "seaweedfs: building SeaweedFS's weed from source"
		(build_seaweedfs && say "seaweedfs: built $sub_seaweedfs in $((SECONDS - t0)) s") &
		seaweedfs_pid=$!
	fi
fi
status=0
if ((needs_ferretdb)); then
	if fresh "$sub_mongo" "$(key_ferretdb)"; then
		say "mongo: $sub_mongo (substitute, built earlier)"
	else
		t0=$SECONDS
		if build_ferretdb; then say "mongo: built $sub_mongo in $((SECONDS - t0)) s"; else status=1; fi
	fi
fi
if ((needs_minio)); then
	if fresh "$sub_s3" "$(key_minio)"; then
		say "s3: $sub_s3 (substitute, built earlier)"
	else
		t0=$SECONDS
		say "s3: building MinIO from source (about 4 min)"
		if build_minio; then say "s3: built $sub_s3 in $((SECONDS - t0)) s"; else status=1; fi
	fi
fi
if [[ -n "$debian_pid" ]]; then
	wait "$debian_pid" || status=1
fi
if [[ -n "$mysql_pid" ]]; then
	wait "$mysql_pid" || status=1
fi
if [[ -n "$seaweedfs_pid" ]]; then
	wait "$seaweedfs_pid" || status=1
fi
if [[ -n "$ferretpg_pid" ]]; then
	wait "$ferretpg_pid" || status=1
fi

{
	echo "# written by scripts/test-images.sh; sourced by scripts/test.sh"
	for kind in "${!chosen[@]}"; do
		echo "export EVENTSTORE_${kind^^}_IMAGE=${chosen[$kind]}"
	done
} >"$envfile"
exit $status
