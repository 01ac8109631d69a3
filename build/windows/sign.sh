#!/bin/sh
# sign.sh FILE: Authenticode-sign FILE in place (exe, msi, NSIS installer and
# uninstaller) when a certificate is configured, and do nothing otherwise.
#
#   BORE_SIGN_PFX       path to a PKCS#12 (.pfx/.p12) code-signing certificate
#   BORE_SIGN_PASSWORD  its password (may be empty)
#   BORE_SIGN_TIMESTAMP optional RFC 3161 timestamp server URL (needs network)
#
# Without a timestamp the signature stops validating when the certificate
# expires; release builds should set one.
set -eu
f=$1
if [ -z "${BORE_SIGN_PFX:-}" ]; then
	echo "sign.sh: BORE_SIGN_PFX not set; $f stays unsigned"
	exit 0
fi
[ -r "$BORE_SIGN_PFX" ] || { echo "sign.sh: cannot read certificate $BORE_SIGN_PFX (BORE_SIGN_PFX)" >&2; exit 1; }
command -v osslsigncode >/dev/null || { echo "sign.sh: osslsigncode not found: apt-get install osslsigncode" >&2; exit 1; }
# The password goes through a private file, not the command line (ps shows that).
pwfile=$(mktemp)
trap 'rm -f "$pwfile"' EXIT
printf '%s' "${BORE_SIGN_PASSWORD:-}" > "$pwfile"
set -- -pkcs12 "$BORE_SIGN_PFX" -readpass "$pwfile" -h sha256 \
	-n "Bore" -i "https://github.com/boretray/bore"
if [ -n "${BORE_SIGN_TIMESTAMP:-}" ]; then
	set -- "$@" -ts "$BORE_SIGN_TIMESTAMP"
fi
tmp="$f.signing"
rm -f "$tmp"
osslsigncode sign "$@" -in "$f" -out "$tmp" >/dev/null
mv "$tmp" "$f"
echo "sign.sh: signed $f"
