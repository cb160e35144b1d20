#!/usr/bin/env bash
# What the test suite needs besides Maven, from Debian: python3-h5py (with numpy), used at test time to write a
# Keras-layout VGG16 weights file, and python3-torch with python3-onnx, used to export the ONNX models the import
# tests compare against PyTorch (bench/python/make_onnx_models.py). Under CI=true as root it installs what is
# missing; elsewhere it only says what to install (the tests that need it skip, naming the reason).
set -euo pipefail
missing=()
/usr/bin/python3 -c 'import h5py, numpy' 2>/dev/null || missing+=(python3-h5py python3-numpy)
/usr/bin/python3 -c 'import torch, onnx' 2>/dev/null || missing+=(python3-torch python3-onnx)
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ "${CI:-}" == "true" && "$(id -u)" == "0" ]]; then
    echo "kiln: installing test dependencies: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "kiln: note: ${missing[*]} not installed; the VGG16 H5 and ONNX-from-PyTorch tests that need them will be skipped (apt-get install ${missing[*]})" >&2
fi
