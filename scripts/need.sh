# need.sh is sourced by the other scripts: `need TOOL [PACKAGE]` makes sure TOOL is on the PATH,
# installing Debian's PACKAGE (default: TOOL) with apt-get when it is missing and the script runs as
# root. A tool that is missing and cannot be installed stops the run at once with a message naming it.
# EVENTSTORE_INSTALL=0 forbids installing anything (the message then says what to install).

need() {
	local tool=$1 pkg=${2:-$1} who=${NEED_WHO:-$(basename "$0" .sh)}
	command -v "$tool" >/dev/null 2>&1 && return 0
	if [[ "${EVENTSTORE_INSTALL:-1}" == 0 ]]; then
		echo "$who: $tool is missing and EVENTSTORE_INSTALL=0: install Debian's $pkg package (apt-get install $pkg)" >&2
		exit 3
	fi
	if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
		echo "$who: $tool is missing and cannot be installed here (needs root and apt-get): install $pkg yourself" >&2
		exit 3
	fi
	echo "$who: installing $pkg with apt-get (for $tool)" >&2
	export DEBIAN_FRONTEND=noninteractive
	# A fresh machine may have no package lists yet: update once, then try again.
	if ! apt-get install -y -q "$pkg" >/dev/null 2>&1; then
		apt-get update -q >/dev/null 2>&1 || true
		if ! apt-get install -y -q "$pkg" >/tmp/need-$pkg.log 2>&1; then
			tail -5 "/tmp/need-$pkg.log" >&2
			echo "$who: could not install $pkg (for $tool) with apt-get; install it yourself" >&2
			exit 3
		fi
	fi
	command -v "$tool" >/dev/null 2>&1 || {
		echo "$who: installed $pkg but $tool is still not on the PATH" >&2
		exit 3
	}
}
