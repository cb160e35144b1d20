#!/usr/bin/env bash
# Installs the benchmark peer (Debian's PyTorch and NumPy on OpenBLAS) and checks it.
#
# Idempotent: packages already installed are not touched and apt-get update runs only
# when something is missing. The checks use /usr/bin/python3 on purpose: a pyenv python3
# earlier on PATH does not see Debian's dist-packages.
#
# Why libopenblas0-pthread is required: Debian's numpy and torch link libblas.so.3, which
# without it resolves to the reference BLAS (a few GFLOP/s), making every ratio meaningless.
set -euo pipefail

PY=/usr/bin/python3
REQUIRED=(python3-torch python3-numpy libopenblas0-pthread)
OPTIONAL=(python3-threadpoolctl)

die() { echo "install-peer: ERROR: $*" >&2; exit 1; }
say() { echo "install-peer: $*"; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

missing=()
for p in "${REQUIRED[@]}" "${OPTIONAL[@]}"; do installed "$p" || missing+=("$p"); done

if ((${#missing[@]})); then
  [[ $(id -u) -eq 0 ]] || die "packages missing (${missing[*]}) and not running as root; run: sudo $0"
  say "missing: ${missing[*]}; running apt-get update"
  apt-get update -qq || die "apt-get update failed"
  to_install=()
  for p in "${missing[@]}"; do
    # apt-cache policy prints 'Candidate: (none)' for packages this release does not have.
    cand=$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ {print $2}')
    if [[ -z "$cand" || "$cand" == "(none)" ]]; then
      for r in "${REQUIRED[@]}"; do [[ "$r" == "$p" ]] && die "required package $p has no install candidate"; done
      say "optional package $p not available here; continuing without it"
    else
      to_install+=("$p")
    fi
  done
  if ((${#to_install[@]})); then
    say "apt-get install -y ${to_install[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${to_install[@]}" >/dev/null \
      || die "apt-get install failed for: ${to_install[*]}"
  fi
else
  say "all packages already installed"
fi

[[ -x $PY ]] || die "$PY not found (python3-torch installs it)"

# Verification: torch imports, and the BLAS that numpy and torch actually loaded is OpenBLAS
# (read from the process's own memory map, so a wrong libblas.so.3 alternative is caught).
"$PY" - <<'EOF' || die "peer verification failed (see above)"
import sys
try:
    import numpy as np
    import torch
except Exception as e:
    print(f"install-peer: ERROR: cannot import numpy/torch with {sys.executable}: {e}", file=sys.stderr)
    sys.exit(1)
np.dot(np.ones((64, 64), np.float32), np.ones((64, 64), np.float32))   # make sure BLAS is loaded
torch.mm(torch.ones(64, 64), torch.ones(64, 64))
libs = set()
with open("/proc/self/maps") as f:
    for line in f:
        path = line.split()[-1] if len(line.split()) >= 6 else ""
        if "blas" in path or "lapack" in path:
            libs.add(path)
openblas = sorted(p for p in libs if "openblas" in p)
print(f"install-peer: numpy {np.__version__}, torch {torch.__version__}")
print("install-peer: BLAS libraries loaded: " + ", ".join(sorted(libs)))
if not openblas:
    print("install-peer: ERROR: numpy/torch did not load OpenBLAS; libblas.so.3 points to "
          "something else (reference BLAS?). Fix: apt-get install libopenblas0-pthread and "
          "update-alternatives --auto libblas.so.3-x86_64-linux-gnu", file=sys.stderr)
    sys.exit(1)
try:
    from threadpoolctl import threadpool_info
    apis = {i.get("internal_api") for i in threadpool_info() if i.get("user_api") == "blas"}
    print(f"install-peer: threadpoolctl BLAS: {sorted(a for a in apis if a)}")
    if apis and "openblas" not in apis:
        print("install-peer: ERROR: threadpoolctl reports no OpenBLAS", file=sys.stderr)
        sys.exit(1)
except ImportError:
    print("install-peer: threadpoolctl not available; relied on the memory map")
print("install-peer: OK")
EOF
