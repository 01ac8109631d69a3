#!/bin/sh
# test-sign.sh: exercise the signing path end to end with a throw-away
# self-signed code-signing certificate: sign.sh on an exe and an MSI, and the
# NSIS installer with its uninstaller, then check each signature with
# "osslsigncode verify" against that certificate. Needs openssl, osslsigncode,
# go; makensis and wixl when present (required when CI is set).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

need() {
	if command -v "$1" >/dev/null; then return 0; fi
	if [ -n "${CI:-}" ]; then echo "test-sign.sh: $1 not found (apt-get install $2)" >&2; exit 1; fi
	echo "test-sign.sh: skipping the $1 part: $1 not found (apt-get install $2)"
	return 1
}
need openssl openssl
need osslsigncode osslsigncode

# A self-signed certificate with the code-signing extended key usage.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Bore test signing" \
	-addext "extendedKeyUsage=codeSigning" -addext "keyUsage=digitalSignature" \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
openssl pkcs12 -export -inkey "$tmp/key.pem" -in "$tmp/cert.pem" -passout pass:s3cret \
	-out "$tmp/test.pfx" 2>/dev/null
export BORE_SIGN_PFX="$tmp/test.pfx" BORE_SIGN_PASSWORD=s3cret
unset BORE_SIGN_TIMESTAMP

verify() {
	osslsigncode verify -CAfile "$tmp/cert.pem" -in "$1" > "$tmp/verify.log" 2>&1 ||
		{ cat "$tmp/verify.log" >&2; echo "test-sign.sh: signature of $1 does not verify" >&2; exit 1; }
	echo "test-sign.sh: $(basename "$1") signed and verified"
}

# A tiny Windows program to sign.
mkdir "$tmp/hello"
printf 'package main\n\nfunc main() {}\n' > "$tmp/hello/main.go"
printf 'module hello\n\ngo 1.22\n' > "$tmp/hello/go.mod"
(cd "$tmp/hello" && CGO_ENABLED=0 GOOS=windows GOARCH=amd64 GOFLAGS= go build -o "$tmp/bore.exe" .)
cp "$tmp/bore.exe" "$tmp/unsigned.exe"
if osslsigncode verify -CAfile "$tmp/cert.pem" -in "$tmp/unsigned.exe" >/dev/null 2>&1; then
	echo "test-sign.sh: an unsigned exe verified; the check proves nothing" >&2; exit 1
fi
sh "$here/sign.sh" "$tmp/bore.exe" >/dev/null
verify "$tmp/bore.exe"

if need wixl wixl; then
	# wixl wants source paths relative to the working directory.
	cp "$root/assets/icons/bore.ico" "$tmp/bore.ico"
	(cd "$tmp" && wixl -a x64 -D Version=1.2.3.4 -D Exe=bore.exe -D Icon=bore.ico -o bore.msi "$here/bore.wxs")
	sh "$here/sign.sh" "$tmp/bore.msi" >/dev/null
	verify "$tmp/bore.msi"
fi

if need makensis nsis; then
	makensis -V2 -DVERSION=1.2.3 -DWIN_VERSION=1.2.3.4 -DEXE="$tmp/bore.exe" \
		-DICON="$root/assets/icons/bore.ico" -DOUTFILE="$tmp/setup.exe" -DSIGN="$here/sign.sh" \
		"$here/bore.nsi" > "$tmp/nsis.log"
	# !uninstfinalize signs the uninstaller before it is packed, !finalize the installer.
	n=$(grep -c '^sign.sh: signed' "$tmp/nsis.log" || true)
	[ "$n" = 2 ] || { cat "$tmp/nsis.log" >&2; echo "test-sign.sh: NSIS signed $n files, want 2 (installer and uninstaller)" >&2; exit 1; }
	verify "$tmp/setup.exe"
fi

# A wrong password must fail loudly, not ship unsigned.
if BORE_SIGN_PASSWORD=wrong sh "$here/sign.sh" "$tmp/unsigned.exe" >/dev/null 2>&1; then
	echo "test-sign.sh: signing with a wrong password succeeded" >&2; exit 1
fi
echo "test-sign.sh: ok"
