#!/usr/bin/env bash
# Installs the headless Chromium the dashboard's browser test drives.
#
# Debian's own `chromium` package (never a browser build downloaded by a
# tool: `playwright install` is not used). Idempotent: exits 0 at once when
# the browser is already there. Needs root (or sudo) for apt-get.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
    echo "chromium is installed: $(command -v chromium)"
    exit 0
fi

sudo=""
if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo="sudo"
    else
        echo "install-browser: need root (or sudo) to run apt-get install chromium" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends chromium chromium-driver fonts-dejavu-core
echo "chromium is installed: $(command -v chromium)"
