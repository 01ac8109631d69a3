#!/usr/bin/env python3
"""check-plist.py INFO_PLIST: fail unless the bundle's Info.plist parses and
holds the keys a menu-bar app needs, with filled-in versions."""
import plistlib
import re
import sys

REQUIRED = {
    "CFBundleExecutable": "bore",
    "CFBundleIdentifier": "io.github.boretray.bore",
    "CFBundleIconFile": "bore.icns",
    "CFBundlePackageType": "APPL",
    "LSUIElement": True,
}

path = sys.argv[1]
with open(path, "rb") as f:
    plist = plistlib.load(f)
problems = []
for key, want in REQUIRED.items():
    if plist.get(key) != want:
        problems.append(f"{key} is {plist.get(key)!r}, want {want!r}")
for key in ("CFBundleShortVersionString", "CFBundleVersion", "CFBundleName", "LSMinimumSystemVersion"):
    value = plist.get(key)
    if not isinstance(value, str) or not value or "@" in value:
        problems.append(f"{key} is {value!r}, want a filled-in string")
if not re.fullmatch(r"\d+(\.\d+){0,2}", str(plist.get("CFBundleVersion", ""))):
    problems.append("CFBundleVersion must be up to three dot-separated integers")
if problems:
    sys.exit(f"{path}:\n  " + "\n  ".join(problems))
print(f"{path}: ok")
