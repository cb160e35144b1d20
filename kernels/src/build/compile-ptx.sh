#!/usr/bin/env bash
# Build step of kiln-cuda (Maven's generate-resources phase): compiles every CUDA C kernel source
# beside the launcher classes to PTX with nvcc, into the jar next to the sources, so a GPU machine
# without NVRTC can still load the kernels. Without nvcc it prints one line and does nothing: the
# jar then ships the CUDA C only, which NVRTC compiles at run time.
#
#   compile-ptx.sh <source folder> <output folder>
set -euo pipefail
src=$1
out=$2
nvcc=""
for candidate in "$(command -v nvcc || true)" "${CUDA_HOME:+$CUDA_HOME/bin/nvcc}" /usr/local/cuda/bin/nvcc; do
    if [[ -n "$candidate" && -x "$candidate" ]]; then nvcc=$candidate; break; fi
done
if [[ -z "$nvcc" ]]; then
    echo "kiln-cuda: nvcc not found (PATH, \$CUDA_HOME/bin, /usr/local/cuda/bin): PTX not built; the jar ships CUDA C for NVRTC only"
    exit 0
fi
mkdir -p "$out"
built=0
for cu in "$src"/*.cu; do
    name=$(basename "$cu" .cu)
    ptx="$out/$name.ptx"
    # Rebuild when the source or any header beside it is newer than the PTX.
    if [[ -f "$ptx" && "$ptx" -nt "$cu" ]] && ! find "$src" -name '*.cuh' -newer "$ptx" | grep -q .; then continue; fi
    "$nvcc" -ptx -arch=sm_75 -I "$src" "$cu" -o "$ptx"
    built=$((built + 1))
done
echo "kiln-cuda: $built PTX file(s) built with $nvcc into $out"
