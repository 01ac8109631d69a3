#!/bin/sh
# version.sh turns the output of "git describe --tags --always --dirty" into
# the version strings each packager accepts.
#
#   version.sh pkg RAW   -> for deb, rpm, Arch and file names:
#                           v1.2.3 -> 1.2.3, v1.2.3-4-gabc1234 -> 1.2.3+4.gabc1234,
#                           abc1234 (no tag) -> 0.0.0~gabc1234, "-dirty" -> ".dirty"
#   version.sh win RAW   -> numeric a.b.c.d for Windows resources and MSI:
#                           v1.2.3-4-gabc1234 -> 1.2.3.4, no tag -> 0.0.0.0
#   version.sh selftest  -> checks the examples above
#
# "~" sorts before the release in dpkg and rpm, "+" after it, so an untagged
# build never outranks a release and a build after v1.2.3 outranks v1.2.3.
set -eu

pkg() {
	raw=${1#v}
	dirty=
	case $raw in *-dirty) dirty=.dirty; raw=${raw%-dirty} ;; esac
	if printf '%s' "$raw" | grep -Eq '^[0-9a-f]{7,40}$'; then
		# No tag: git describe --always printed only the abbreviated hash.
		printf '0.0.0~g%s%s\n' "$raw" "$dirty"
	elif printf '%s' "$raw" | grep -Eq '^[0-9]+(\.[0-9]+)*([-+~.][0-9A-Za-z.]*)?-[0-9]+-g[0-9a-f]+$'; then
		hash=${raw##*-g}; rest=${raw%-g*}; n=${rest##*-}; tag=${rest%-*}
		printf '%s+%s.g%s%s\n' "$(clean "$tag")" "$n" "$hash" "$dirty"
	elif printf '%s' "$raw" | grep -Eq '^[0-9]+(\.[0-9]+)*'; then
		printf '%s%s\n' "$(clean "$raw")" "$dirty"
	else
		printf '0.0.0~%s%s\n' "$(clean "$raw")" "$dirty"
	fi
}

# clean maps "-" (forbidden in rpm and Arch versions) to "~" (a pre-release:
# v1.2.0-rc1 -> 1.2.0~rc1) and drops anything but letters, digits, ".", "+", "~".
clean() { printf '%s' "$1" | tr '-' '~' | tr -cd '0-9A-Za-z.+~'; }

win() {
	raw=${1#v}
	raw=${raw%-dirty}
	if printf '%s' "$raw" | grep -Eq '^[0-9a-f]{7,40}$' || ! printf '%s' "$raw" | grep -Eq '^[0-9]+(\.[0-9]+)*'; then
		echo 0.0.0.0
		return
	fi
	n=0
	if printf '%s' "$raw" | grep -Eq -- '-[0-9]+-g[0-9a-f]+$'; then
		rest=${raw%-g*}; n=${rest##*-}
	fi
	nums=$(printf '%s' "$raw" | grep -Eo '^[0-9]+(\.[0-9]+)*')
	set -- $(printf '%s' "$nums" | tr '.' ' ') 0 0 0
	# Each field of a Windows version is 16 bits.
	printf '%d.%d.%d.%d\n' $(($1 % 65536)) $(($2 % 65536)) $(($3 % 65536)) $((n % 65536))
}

selftest() {
	fail=0
	check() {
		got=$("$1" "$2")
		[ "$got" = "$3" ] || { echo "version.sh $1 $2: got $got, want $3" >&2; fail=1; }
	}
	check pkg v1.2.3 1.2.3
	check pkg v1.2.3-dirty 1.2.3.dirty
	check pkg v1.2.3-4-gabc1234 1.2.3+4.gabc1234
	check pkg v1.2.3-4-gabc1234-dirty 1.2.3+4.gabc1234.dirty
	check pkg v1.2.0-rc1 1.2.0~rc1
	check pkg v1.2.0-rc1-3-gabc1234 1.2.0~rc1+3.gabc1234
	check pkg abc1234 0.0.0~gabc1234
	check pkg 2b0c26d-dirty 0.0.0~g2b0c26d.dirty
	check pkg 1234567 0.0.0~g1234567
	check win 2b0c26d 0.0.0.0
	check pkg abc1234-dirty 0.0.0~gabc1234.dirty
	check pkg dev 0.0.0~dev
	check win v1.2.3 1.2.3.0
	check win v1.2.3-4-gabc1234-dirty 1.2.3.4
	check win v2-1-gabc1234 2.0.0.1
	check win abc1234 0.0.0.0
	check win v1.2.0-rc1 1.2.0.0
	[ $fail = 0 ] && echo "version.sh: ok"
	return $fail
}

case ${1:-} in
pkg) pkg "$2" ;;
win) win "$2" ;;
selftest) selftest ;;
*) echo "usage: version.sh pkg|win RAW | selftest" >&2; exit 2 ;;
esac
