#!/usr/bin/env bash
# What the test suite needs besides Maven, from Debian: python3-h5py (with numpy), used at test time to write a
# Keras-layout VGG16 weights file; python3-torch with python3-onnx, used to export the ONNX models the import
# tests compare against PyTorch (bench/python/make_onnx_models.py); chromium, which loads the training page
# headless (DashboardBrowserTest); graphviz ('dot'), which draws model.plot and program.dump pictures (without
# it they are written as DOT text and the drawing tests skip). Under CI=true as root it installs what is missing; elsewhere it only says what
# to install (the tests that need it skip, naming the reason).
set -euo pipefail
missing=()
/usr/bin/python3 -c 'import h5py, numpy' 2>/dev/null || missing+=(python3-h5py python3-numpy)
/usr/bin/python3 -c 'import torch, onnx' 2>/dev/null || missing+=(python3-torch python3-onnx)
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ "${CI:-}" == "true" && "$(id -u)" == "0" ]]; then
    echo "kiln: installing test dependencies: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    # a package that cannot be installed only skips its tests (they print why): the suite still runs
    apt-get update -q >/dev/null || echo "kiln: note: apt-get update failed; installing from the package lists at hand" >&2
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
        || echo "kiln: note: could not install ${missing[*]}; the tests that need them will be skipped" >&2
else
    echo "kiln: note: ${missing[*]} not installed; the tests that need them (VGG16 H5, ONNX from PyTorch, training page in Chromium, graph drawing) will be skipped (apt-get install ${missing[*]})" >&2
fi
