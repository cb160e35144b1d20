#!/usr/bin/env bash
# Installs Maven with apt-get. The launcher calls this only as root under CI=true; people run
# `apt-get install maven` themselves, so nothing installs software on a workstation unasked.
set -euo pipefail
if [[ "$(id -u)" != "0" ]]; then
    echo "install-maven.sh: must run as root (try: sudo apt-get install maven)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends maven
