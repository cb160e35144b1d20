#!/usr/bin/env bash
# The GPU machine's script, copied by ./kiln gpu-pack to target/gpu-pack/run. Needs no JDK or Maven: the pack brings
# its runtime. In under 9 minutes (each step gets what is left of a 540 s budget, at most its own cap) it runs:
#   1. nvidia-smi and Kiln's doctor (driver, devices, cuBLAS/cuBLASLt/cuDNN/NCCL/NVRTC with versions);
#   2. the parity suite: kiln-cuda's kernel tests against the CPU references, on the real driver (ParitySuite);
#   3. M1-M4 trained on the GPU and on the CPU from the same weights and batches: loss curves side by side, and
#      Kiln's GPU training samples/s (dev.kiln.bench.GpuRun); without a usable CUDA backend it says why and measures
#      nothing on the GPU;
#   3b. the lessons on CUDA (dev.kiln.examples.GpuLessons): M3 fit on the bundled Fashion-MNIST subset on the CPU and
#      on CUDA (CUDA must reach the CPU's test accuracy), the transfer lesson (frozen base vs scratch) on CUDA, and M3
#      in mixed bf16 on CUDA (within 0.5 points of f32's test accuracy);
#   3c. data-parallel training (dev.kiln.bench.MultiGpuRun): M1 on every visible GPU vs GPU 0 alone, same global
#      batches; with one GPU it says "1 GPU: data-parallel degrades to one rank" and trains that way;
#   4. PyTorch on the same GPU, M1 and M2 training samples/s, eager and torch.compile(mode="reduce-overhead");
#   5. a summary table (summary.md), printed last.
# Results go to $OUT (the device tool's folder), else to the folder given as the first argument, else ./gpu-out.
# At most 8 files, as the device tool brings back: nvidia-smi.txt doctor.txt parity.txt kiln-gpu.json kiln-lessons.json
# torch-gpu.json summary.md run.log.
#
#   bash target/gpu-pack/run            # bench/README.md, "On a GPU machine", has the device tool's call
set -uo pipefail
pack="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${OUT:-${1:-$PWD/gpu-out}}"
mkdir -p "$out"
exec > >(tee "$out/run.log") 2>&1
budget=${KILN_GPU_BUDGET_S:-540}
start=$SECONDS
java="$pack/runtime/bin/java"
jvm=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC)
cp="$pack/lib/*"

# PyTorch's interpreter: the image's venv first (/opt/torch/.venv), else whatever python3 is on PATH.
python=""
for p in /opt/torch/.venv/bin/python3 "$(command -v python3 || true)"; do [[ -n "$p" && -x "$p" ]] && { python=$p; break; }; done
# The pip wheels' CUDA libraries (site-packages/nvidia/*/lib): Kiln's SharedLibrary looks under $VIRTUAL_ENV, and the
# loader path lets each library find its siblings (libcublas needs libcublasLt; libcudnn loads its sub-libraries).
if [[ -n "$python" ]]; then
    prefix=$("$python" -c 'import sys; print(sys.prefix)' 2>/dev/null || true)
    [[ -n "$prefix" ]] && export VIRTUAL_ENV="$prefix"
    libs=$("$python" -c 'import glob, site, os; print(":".join(sorted(d for s in site.getsitepackages() for d in glob.glob(os.path.join(s, "nvidia", "*", "lib")))))' 2>/dev/null || true)
    [[ -n "$libs" ]] && export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi

# Runs "$@" with at most $1 seconds, or what is left of the budget if less; says how it ended.
step() {
    local cap=$1 name=$2; shift 2
    local left=$((budget - (SECONDS - start)))
    (( left < cap )) && cap=$left
    if (( cap < 5 )); then echo "== $name: SKIPPED, the ${budget} s budget is spent"; return 0; fi
    echo "== $name (at most ${cap} s)"
    local t0=$SECONDS
    timeout --kill-after=5 "$cap" "$@"
    local rc=$?
    if (( rc == 124 || rc == 137 )); then echo "== $name: TIMED OUT after $((SECONDS - t0)) s"
    else echo "== $name: exit $rc after $((SECONDS - t0)) s"; fi
    return 0
}

echo "kiln gpu run: pack $pack, results in $out, python ${python:-none}, budget ${budget} s"
step 15 "nvidia-smi" bash -c "nvidia-smi > '$out/nvidia-smi.txt' 2>&1; head -20 '$out/nvidia-smi.txt'"
step 40 "doctor" bash -c "'$java' ${jvm[*]} -cp '$cp' dev.kiln.cli.Doctor > '$out/doctor.txt' 2>&1; cat '$out/doctor.txt'"
# The parity suite fails (never falls back to the emulator) when no GPU is seen: -Dkiln.cuda.test=gpu.
step 150 "parity suite" "$java" "${jvm[@]}" -Dkiln.cuda.test=gpu -cp "$cp:$pack/parity/*" dev.kiln.cuda.ParitySuite --out "$out/parity.txt"
step 85 "Kiln M1-M4 on the GPU vs the CPU" "$java" "${jvm[@]}" -cp "$cp" dev.kiln.bench.GpuRun --models M1,M2,M3,M4 --out "$out/kiln-gpu.json"
# the lessons read the bundled Fashion-MNIST subset from the repository (the pack leaves it out): the run's checkout is ../..
step 150 "Kiln lessons on CUDA: M3 on the subset vs the CPU, transfer, bf16" "$java" "${jvm[@]}" -cp "$cp:$pack/../../examples/src/main/resources" \
    dev.kiln.examples.GpuLessons --lessons m3,transfer,bf16 --out "$out/kiln-lessons.json"
# several GPUs: M1 data-parallel on all of them vs GPU 0 alone (one GPU: says it degrades to one rank)
step 30 "Kiln data-parallel on every visible GPU" "$java" "${jvm[@]}" -cp "$cp" dev.kiln.bench.MultiGpuRun --epochs 3 --steps 16
if [[ -n "$python" ]]; then
    step 90 "PyTorch M1/M2 on the GPU" env PYTHONUNBUFFERED=1 "$python" "$pack/python/gpu_peer.py" bench --models M1,M2 --out "$out/torch-gpu.json"
    step 10 "summary" "$python" "$pack/python/gpu_peer.py" summary --kiln "$out/kiln-gpu.json" --torch "$out/torch-gpu.json" --lessons "$out/kiln-lessons.json" --out "$out/summary.md"
else
    echo "== PyTorch: SKIPPED, no python3 found (looked at /opt/torch/.venv/bin/python3 and PATH)"
fi
echo "kiln gpu run: done in $((SECONDS - start)) s"
