#!/usr/bin/env bash
# `./kiln bench --device cuda [--models M1,M2,M3,M4] [--seconds S]`: Kiln's training samples/s on the CUDA backend
# (dev.kiln.bench.GpuRun, beside the CPU backend's on the same batches) against PyTorch eager and
# torch.compile(mode="reduce-overhead") on the same GPU at the same precision (f32, TF32 off: gpu_peer.py), then the
# table (gpu_peer.py summary) into bench/results/cuda-<time>/. Called by bench.sh: bench-cuda.sh JVM-FLAGS... -- ARGS...
# Without a CUDA device it prints one line (dev.kiln.bench.CudaDeviceCheck) and exits 2.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
: "${KILN_RUN_CLASSPATH:?bench-cuda.sh is started by ./kiln bench --device cuda}"
cp=$KILN_RUN_CLASSPATH
jvm=()
while [[ $# -gt 0 && "$1" != "--" ]]; do jvm+=("$1"); shift; done
[[ $# -gt 0 ]] && shift
models=M1,M2,M3,M4
seconds=1.0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --device) shift ;;
        --device=*) ;;
        --models) models=$2; shift ;;
        --seconds) seconds=$2; shift ;;
        *) printf 'kiln bench --device cuda: unknown option %s (it takes --models M1,M2,M3,M4 and --seconds S)\n' "$1" >&2; exit 2 ;;
    esac
    shift
done
# The gate prints its one line on stdout; the JVM's own warnings (incubator module) are shown only if it fails otherwise.
log=$(mktemp)
rc=0
line=$("$JAVA_HOME/bin/java" "${jvm[@]}" -cp "$cp" dev.kiln.bench.CudaDeviceCheck 2>"$log") || rc=$?
if (( rc == 2 )); then printf '%s\n' "$line" >&2; rm -f "$log"; exit 2; fi
if (( rc != 0 )); then cat "$log" >&2; rm -f "$log"; exit "$rc"; fi
rm -f "$log"

out="$root/bench/results/cuda-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$out"
python=""
for p in /opt/torch/.venv/bin/python3 "$(command -v python3 || true)"; do [[ -n "$p" && -x "$p" ]] && { python=$p; break; }; done
"$JAVA_HOME/bin/java" "${jvm[@]}" -cp "$cp" dev.kiln.bench.GpuRun --models "$models" --seconds "$seconds" --out "$out/kiln-gpu.json"
if [[ -z "$python" ]]; then
    printf 'kiln bench --device cuda: no python3 for the PyTorch peer; Kiln figures only, in %s/kiln-gpu.json\n' "$out" >&2
    exit 1
fi
"$python" "$root/bench/python/gpu_peer.py" bench --models "$models" --seconds "$seconds" --out "$out/torch-gpu.json"
"$python" "$root/bench/python/gpu_peer.py" summary --kiln "$out/kiln-gpu.json" --torch "$out/torch-gpu.json" --out "$out/summary.md"
cat "$out/summary.md"
printf 'kiln bench --device cuda: results in %s\n' "$out" >&2
