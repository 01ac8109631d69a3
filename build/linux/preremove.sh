#!/bin/sh
set -e
# Stop a running bore server before its binary goes away; no-op when it is not running.
if [ -d /run/systemd/system ]; then
	systemctl stop bore-server.service >/dev/null 2>&1 || :
fi
exit 0
