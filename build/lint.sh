#!/bin/sh
# lint.sh: the static checks "make lint" runs, for every system Bore ships on:
# gofmt; go vet and staticcheck for Linux, Windows and macOS (macOS only for
# the packages that build without cgo, i.e. all but the systray ones);
# govulncheck for Linux and Windows; actionlint on every workflow.
#
# Tools run pinned with "go run module@version". govulncheck needs a
# vulnerability database:
#   GOVULNDB unset: an offline snapshot, built from the OSV files that the
#     golang.org/x/vulndb module (on the Go module proxy) ships, into
#     bin/vulndb-<version>. It is as new as VULNDB_VERSION below; bump it to
#     learn of newer reports.
#   GOVULNDB=https://vuln.go.dev (the GitHub workflow sets it): the live one.
# A finding in a module we require fails. A finding only in the standard
# library is a property of the Go toolchain that builds Bore, not of this
# code: it fails when BORE_VULN_STDLIB=fail (the GitHub workflow, which
# builds with the newest Go patch release) and is reported as a warning
# otherwise, naming the Go version that fixes it.
set -eu
cd "$(dirname "$0")/.."
GO=${GO:-go}
STATICCHECK=${STATICCHECK:-honnef.co/go/tools/cmd/staticcheck@v0.8.2}
GOVULNCHECK=${GOVULNCHECK:-golang.org/x/vuln/cmd/govulncheck@v1.9.0}
ACTIONLINT=${ACTIONLINT:-github.com/rhysd/actionlint/cmd/actionlint@v1.7.12}
VULNDB_VERSION=${VULNDB_VERSION:-v0.0.0-20261105234957-e22db6528018}

step() { echo "lint: $*"; }
fail() { echo "lint: FAIL: $*" >&2; exit 1; }

step "gofmt"
bad=$(gofmt -l $(git ls-files '*.go'))
[ -z "$bad" ] || fail "gofmt needed on: $bad"

# Packages a darwin build can compile here: the ones not importing systray
# (its macOS half is cgo and needs the macOS SDK).
darwin_pkgs=$(GOOS=darwin CGO_ENABLED=0 $GO list -f '{{.ImportPath}} {{join .Deps " "}}' ./... |
	awk '{ for (i = 2; i <= NF; i++) if ($i == "fyne.io/systray") next; print $1 }')

step "go vet (linux, windows, darwin without cgo)"
$GO vet ./...
GOOS=windows $GO vet ./...
# shellcheck disable=SC2086
GOOS=darwin CGO_ENABLED=0 $GO vet $darwin_pkgs

# staticcheck reads GOOS from its environment; "go run -exec" sets it for the
# checker only, so the checker itself is still built for this machine. Code
# shared between systems is often used on only some of them, so the other
# systems' runs leave out the unused-code check.
step "staticcheck $STATICCHECK (linux, windows, darwin)"
$GO run "$STATICCHECK" ./...
$GO run -exec 'env GOOS=windows' "$STATICCHECK" -checks inherit,-U1000 ./...
# shellcheck disable=SC2086
$GO run -exec 'env GOOS=darwin CGO_ENABLED=0' "$STATICCHECK" -checks inherit,-U1000 $darwin_pkgs

# actionlint also runs shellcheck on the workflows' scripts when it is
# installed (build/apt-packages-test.txt; GitHub's runners have it).
command -v shellcheck >/dev/null || echo "lint: note: shellcheck not installed (apt package shellcheck): actionlint skips the workflows' shell scripts"
step "actionlint $ACTIONLINT"
$GO run "$ACTIONLINT" -no-color .github/workflows/*.yml

db=${GOVULNDB:-}
if [ -z "$db" ]; then
	dir=bin/vulndb-$VULNDB_VERSION
	if [ ! -f "$dir/index/db.json" ]; then
		step "building the offline vulnerability database from golang.org/x/vulndb@$VULNDB_VERSION"
		src=$($GO mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
		[ -d "$src/data/osv" ] || fail "golang.org/x/vulndb@$VULNDB_VERSION has no data/osv (is the Go module proxy reachable?)"
		rm -rf "$dir.tmp"
		$GO run "golang.org/x/vulndb/cmd/indexdb@$VULNDB_VERSION" -vulns "$src/data/osv" -out "$dir.tmp"
		rm -rf "$dir" && mv "$dir.tmp" "$dir"
	fi
	db=file://$(pwd)/$dir
	step "govulncheck: OFFLINE database golang.org/x/vulndb@$VULNDB_VERSION (reports up to $(echo "$VULNDB_VERSION" | sed 's/^v0\.0\.0-\([0-9]\{4\}\)\([0-9][0-9]\)\([0-9][0-9]\).*/\1-\2-\3/')); set GOVULNDB=https://vuln.go.dev for the live one"
else
	step "govulncheck: database $db"
fi

# vulncheck GOOS: run govulncheck for GOOS and apply the policy above.
vulncheck() {
	step "govulncheck $GOVULNCHECK (GOOS=$1)"
	rc=0
	out=$($GO run -exec "env GOOS=$1" "$GOVULNCHECK" -db "$db" ./... 2>&1) || rc=$?
	# go run exits 1 whatever the program's status was and says which it was
	# on its last line; govulncheck exits 3 when it found something.
	[ $rc -eq 0 ] || rc=$(printf '%s\n' "$out" | tail -n 1 | sed -n 's/^exit status \([0-9]*\)$/\1/p')
	case $rc in
	0) printf '%s\n' "$out"; return 0 ;;
	3) ;;
	*) printf '%s\n' "$out"; fail "govulncheck could not run (GOOS=$1): see above" ;;
	esac
	mods=$(printf '%s\n' "$out" | sed -n 's/^ *Found in: //p' | grep -v '@go[0-9]' || true)
	if [ -n "$mods" ]; then
		printf '%s\n' "$out"
		fail "vulnerable code in required modules is called (GOOS=$1): $mods; upgrade them to the \"Fixed in\" versions"
	fi
	# Only the standard library: the summary lines say enough.
	printf '%s\n' "$out" | grep -E '^Vulnerability #|^ *(Found|Fixed) in:|^Your code is affected' >&2
	if [ "${BORE_VULN_STDLIB:-warn}" = fail ]; then
		fail "the standard library of $($GO env GOVERSION) has the vulnerabilities above (GOOS=$1): build with the Go release they are fixed in"
	fi
	echo "lint: WARNING: the standard library of $($GO env GOVERSION), which builds Bore on this machine, has the vulnerabilities above (GOOS=$1)." >&2
	echo "lint: WARNING: they are fixed in the Go release named under \"Fixed in\"; the GitHub workflows build with the newest Go patch release and fail on them." >&2
}
vulncheck linux
vulncheck windows
step "ok"
