#!/usr/bin/env bash
# What the test suite needs besides Maven: Debian's python3-h5py (with numpy), used at test time
# to write a Keras-layout VGG16 weights file; Debian's graphviz ('dot'), which draws model.plot and
# program.dump pictures (without it they are written as DOT text and the drawing tests skip). Under CI=true as root it installs what is missing;
# elsewhere it only says what to install (the tests that need it skip, naming the reason).
set -euo pipefail
missing=()
/usr/bin/python3 -c 'import h5py, numpy' 2>/dev/null || missing+=(python3-h5py python3-numpy)
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ "${CI:-}" == "true" && "$(id -u)" == "0" ]]; then
    echo "kiln: installing test dependencies: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "kiln: note: ${missing[*]} not installed; the tests that need them (VGG16 H5, graph drawing) will be skipped (apt-get install ${missing[*]})" >&2
fi
