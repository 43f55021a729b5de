#!/bin/sh
# Forced command of the test AUR server's authorized key (see tests/common/sshd.rs).
# Usage: aur-shell.sh <server dir> <AUR account name>
#
# Plays the part of aurweb's git-serve: maps AUR-style repository paths
# ('/<pkgbase>.git') onto bare repositories under <server dir>/srv/repos and
# answers the non-git commands our bot uses: set-keywords, and adopt, disown, flag and
# unflag as aurweb answers them (owners in <server dir>/owners, "-" for an orphan; flags in
# <server dir>/srv/flags; every command done is logged to <server dir>/srv/actions.log).
set -eu
# The pkgbase check below relies on byte ranges in bracket expressions.
export LC_ALL=C

server_dir=$1
account=$2
repos=$server_dir/srv/repos

die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# The same rule as the AUR's package names; it also keeps '/' and '..' out of paths.
valid_pkgbase() {
	case $1 in
	'' | [!a-z0-9]* | *[!a-z0-9.+_-]*) return 1 ;;
	esac
	[ ${#1} -le 255 ]
}

# git sends the path quoted ('/<pkgbase>.git'); other clients may not quote it or
# may leave out the leading slash or the .git suffix, which the AUR also accepts.
pkgbase_of_path() {
	p=$1
	case $p in
	\'*\' | \"*\")
		p=${p#?}
		p=${p%?}
		;;
	esac
	p=${p#/}
	p=${p%.git}
	valid_pkgbase "$p" || die "invalid repository name: $1"
	printf '%s\n' "$p"
}

# Anyone may create a new pkgbase on the AUR, and cloning one that does not exist
# yet gives an empty repository: so both commands create the repository on demand.
# It is built under a private name and renamed into place, so that a concurrent
# client never sees a repository without its hook.
ensure_repo() {
	[ -d "$1" ] && return 0
	tmp=$(mktemp -d "$repos/.new.XXXXXX")
	chmod 755 "$tmp"
	git init -q --bare --initial-branch=master "$tmp"
	ln -s "$server_dir/bin/pre-receive.sh" "$tmp/hooks/pre-receive"
	# Losing the race leaves the winner's repository in place: drop ours.
	mv -T "$tmp" "$1" 2>/dev/null || rm -rf "$tmp"
}

# Split the client's command into words; no globbing, as a name could hold '*'.
set -f
# shellcheck disable=SC2086
set -- ${SSH_ORIGINAL_COMMAND:-}
[ $# -gt 0 ] || die "interactive shell is disabled"

case $1 in
git-upload-pack | git-receive-pack)
	[ $# -eq 2 ] || die "usage: $1 '/<pkgbase>.git'"
	pkgbase=$(pkgbase_of_path "$2")
	repo=$repos/$pkgbase.git
	ensure_repo "$repo"
	# The pre-receive hook inherits these, like aurweb's update hook does.
	AUR_SERVER_DIR=$server_dir AUR_ACCOUNT=$account AUR_PKGBASE=$pkgbase
	export AUR_SERVER_DIR AUR_ACCOUNT AUR_PKGBASE
	exec git "${1#git-}" "$repo"
	;;
set-keywords)
	[ $# -ge 2 ] || die "usage: set-keywords <pkgbase> [keyword...]"
	valid_pkgbase "$2" || die "invalid package base: $2"
	shift
	printf '%s\n' "$*" >>"$server_dir/srv/keywords.log"
	;;
adopt | disown | flag | unflag)
	[ $# -ge 2 ] || die "usage: $1 <pkgbase>"
	valid_pkgbase "$2" || die "invalid package base: $2"
	[ -d "$repos/$2.git" ] || die "package base not found: $2"
	owner=$(awk -v p="$2" '$1 == p { m = $2 } END { print m }' "$server_dir/owners")
	flagged=$(grep -cx "$2" "$server_dir/srv/flags" 2>/dev/null || true)
	case $1 in
	adopt)
		[ "$owner" = "-" ] || die "adopt: permission denied: $account"
		printf '%s %s\n' "$2" "$account" >>"$server_dir/owners"
		;;
	disown)
		[ "$owner" = "$account" ] || die "disown: permission denied: $account"
		printf '%s -\n' "$2" >>"$server_dir/owners"
		;;
	flag)
		[ $# -ge 3 ] || die "usage: flag <pkgbase> <comment>"
		[ "$flagged" = 0 ] || die "$2 is already flagged out-of-date."
		printf '%s\n' "$2" >>"$server_dir/srv/flags"
		;;
	unflag)
		[ "$flagged" != 0 ] || die "$2 is not flagged out-of-date."
		grep -vx "$2" "$server_dir/srv/flags" >"$server_dir/srv/flags.new" || true
		mv "$server_dir/srv/flags.new" "$server_dir/srv/flags"
		;;
	esac
	printf '%s\n' "$*" >>"$server_dir/srv/actions.log"
	;;
*)
	die "invalid command: $1"
	;;
esac
