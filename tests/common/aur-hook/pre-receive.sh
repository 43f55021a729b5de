#!/bin/sh
# pre-receive hook of the test AUR server's bare repositories (see tests/common/sshd.rs).
#
# Enforces the push rules of aurweb's update hook (facts sheet, section 4) with
# git plumbing. Refusals go to stderr as "error: ...", which the pushing client
# shows as "remote: error: ...". aur-shell.sh exports AUR_SERVER_DIR,
# AUR_ACCOUNT (the AUR user the bot pushes as) and AUR_PKGBASE.
set -eu
export LC_ALL=C

# The AUR's default limit; production allows more, so staying under this is safe.
max_blob_size=256000

die() {
	printf 'error: %s\n' "$@" >&2
	exit 1
}

die_commit() {
	die "The following error occurred when parsing commit" "$2:" "$1"
}

is_zero() {
	case $1 in
	*[!0]*) return 1 ;;
	esac
}

# Every new commit: a PKGBUILD, no subdirectories but keys/pgp/*.asc and
# LICENSES/, no oversized blob.
check_commit() {
	git cat-file -e "$1:PKGBUILD" 2>/dev/null || die_commit "missing PKGBUILD" "$1"
	# A here-document rather than a pipe keeps the loop, and its die, in this shell.
	tree=$(git ls-tree -r -l "$1")
	while read -r _mode type _object size path; do
		case $path in
		keys/pgp/*/*) die_commit "the repository must not contain subdirectories" "$1" ;;
		keys/pgp/*.asc | LICENSES/*) ;;
		*/*) die_commit "the repository must not contain subdirectories" "$1" ;;
		esac
		if [ "$type" = blob ] && [ "$size" -gt "$max_blob_size" ]; then
			die_commit "maximum blob size (250.00KiB) exceeded" "$1"
		fi
	done <<TREE
$tree
TREE
}

# The new tip: a .SRCINFO naming this repository's pkgbase, and every local file
# it refers to (sources without a URL scheme, install and changelog) in the tree.
check_head() {
	git cat-file -e "$1:.SRCINFO" 2>/dev/null || die_commit "missing .SRCINFO" "$1"
	srcinfo=$(git cat-file blob "$1:.SRCINFO")
	pkgbase=$(printf '%s\n' "$srcinfo" | sed -n 's/^pkgbase = //p' | head -n 1)
	[ "$pkgbase" = "$AUR_PKGBASE" ] || die "invalid pkgbase: $pkgbase, expected $AUR_PKGBASE"
	files=$(printf '%s\n' "$srcinfo" |
		sed -n -E 's/^[[:space:]]*(source(_[A-Za-z0-9_]+)?|install|changelog) = /\1 /p')
	while read -r key file; do
		case $key in
		'') continue ;;
		source*) what=source ;;
		*) what=$key ;;
		esac
		case $file in
		*://*) continue ;;
		esac
		git cat-file -e "$1:$file" 2>/dev/null || die_commit "missing $what file: $file" "$1"
	done <<FILES
$files
FILES
}

# Test switch: AurServer::set_refuse_all.
[ ! -e "$AUR_SERVER_DIR/refuse-all" ] || die "the AUR refuses all pushes right now (test switch)"

# Lines "<pkgbase> <maintainer>", written by AurServer::set_owner; the last one wins.
owner=$(awk -v p="$AUR_PKGBASE" '$1 == p { m = $2 } END { print m }' "$AUR_SERVER_DIR/owners")
if [ -n "$owner" ] && [ "$owner" != "$AUR_ACCOUNT" ]; then
	die "You are not allowed to push to $AUR_PKGBASE"
fi

while read -r old new ref; do
	[ "$ref" = refs/heads/master ] || die "pushing to a branch other than master is restricted"
	! is_zero "$new" || die "deleting the master branch is not allowed"
	if ! is_zero "$old" && ! git merge-base --is-ancestor "$old" "$new"; then
		die "denying non-fast-forward (you should pull first)"
	fi
	# The refs are not updated yet, so --not --all leaves exactly the pushed commits.
	for commit in $(git rev-list "$new" --not --all); do
		check_commit "$commit"
	done
	check_head "$new"
done
