#!/usr/bin/python3
"""PyTorch / OpenBLAS peer for `./kiln bench`: models M1-M4 and GEMM, the peer at its best.

Run with Debian's interpreter (/usr/bin/python3), which sees python3-torch and python3-numpy;
bench/scripts/install-peer.sh installs and checks them.

    /usr/bin/python3 bench/python/peer_bench.py all    --rule RULE --out peer.json [--quick] [--models M1,M2,M3,M4]
    /usr/bin/python3 bench/python/peer_bench.py models --rule RULE --out peer.json [--quick] [--models M1]
    /usr/bin/python3 bench/python/peer_bench.py gemm   --rule RULE --out gemm.json [--quick] [--shapes 256x512x11,...]

RULE is the warm-up and timed-run rule both sides follow, min_steps=5,min_s=1.0,... as Java's
Timed.Rule.encoded() writes it; ./kiln bench passes Timed.Rule.STANDARD (bench/README.md states it).
WarmUp and timed_run below are the twins of Timed.WarmUp and Timed.timedRun.

Why each measurement runs in a fresh child process: OpenMP and OpenBLAS size their thread pools
once, from the environment, when they are first used; only a new process gets a clean pool of
the requested size. The child's environment alone is changed (thread variables set,
OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE removed so OpenBLAS picks the kernel for the real CPU);
tests and CI keep whatever the machine sets.

Why every configuration is tried: on a 2-core machine t = b = 2 lets the OpenMP pool and the
OpenBLAS pool spin against each other, so the naive setting is not PyTorch's best. The best
configuration per model and figure is reported, and named, next to the naive one. Quick mode
searches fewer configurations (quick_configs), never with a shorter warm-up or shorter runs.
"""
import argparse
import ctypes
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

SCHEMA = "kiln-peer-bench/1"
MODELS = ("M1", "M2", "M3", "M4")
CONV_MODELS = ("M3", "M4")
BATCH = {"M1": 256, "M2": 512, "M3": 64, "M4": 16}
INPUT = {"M1": (11,), "M2": (63,), "M3": (1, 28, 28), "M4": (3, 128, 128)}  # PyTorch order (C, H, W)
THREAD_VARS_UNSET = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
CLK_TCK = os.sysconf("SC_CLK_TCK")

# GEMM shapes (m, n, k) of the forward pass of M1-M4 at their training batch: Dense layers as
# [batch, in] x [in, out]; 3x3 'same' convolutions as im2col products [N*H*W, 9*C] x [9*C, F].
MODEL_GEMM_SHAPES = [
    ("M1 dense 11->512", 256, 512, 11), ("M1 dense 512->512", 256, 512, 512), ("M1 dense 512->1", 256, 1, 512),
    ("M2 dense 63->256", 512, 256, 63), ("M2 dense 256->256", 512, 256, 256), ("M2 dense 256->1", 512, 1, 256),
    ("M3 conv 1->32 @28", 64 * 28 * 28, 32, 9), ("M3 conv 32->64 @14", 64 * 14 * 14, 64, 288),
    ("M3 conv 64->64 @14", 64 * 14 * 14, 64, 576), ("M3 conv 64->128 @7", 64 * 7 * 7, 128, 576),
    ("M3 conv 128->128 @7", 64 * 7 * 7, 128, 1152), ("M3 dense 1152->64", 64, 64, 1152), ("M3 dense 64->10", 64, 10, 64),
    ("M4 conv 3->32 @128", 16 * 128 * 128, 32, 27), ("M4 conv 32->64 @64", 16 * 64 * 64, 64, 288),
    ("M4 conv 64->64 @64", 16 * 64 * 64, 64, 576), ("M4 conv 64->128 @32", 16 * 32 * 32, 128, 576),
    ("M4 conv 128->128 @32", 16 * 32 * 32, 128, 1152), ("M4 dense 32768->6", 16, 6, 32768), ("M4 dense 6->1", 16, 1, 6),
]
SQUARE_SIZES = (256, 512, 1024, 2048)
# Quick mode's model shapes: one per model (GemmBench.QUICK_MODEL_SHAPES names the same ones), so the rule's warm-up
# and one-second runs fit a few minutes.
QUICK_GEMM_LABELS = ("M1 dense 512->512", "M2 dense 256->256", "M3 conv 64->64 @14", "M4 conv 64->128 @32")


# ---------------------------------------------------------------------------------------------
# Machine facts and the busy check (parent and children)
# ---------------------------------------------------------------------------------------------

def cores():
    return len(os.sched_getaffinity(0))


def cpu_info():
    info = {"logical_cpus": os.cpu_count(), "usable_cpus": cores(), "machine": platform.machine()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key == "model name" and "model_name" not in info:
                    info["model_name"] = value
                elif key == "vendor_id":
                    info["vendor"] = value
                elif key == "cpu family":
                    info["family"] = int(value)
                elif key == "model" and "model" not in info:
                    info["model"] = int(value)
                elif key == "cpu MHz":
                    info["nominal_mhz"] = float(value)
                elif key == "flags":
                    flags = set(value.split())
                    info["simd"] = [f for f in ("avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_bf16")
                                    if f in flags]
                    break
    except OSError:
        pass
    return info


def proc_stat():
    """(busy jiffies, wall jiffies-per-cpu basis) of the whole machine from /proc/stat's cpu line."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest is already inside user). Steal counts as
    # busy: a hypervisor taking our vCPU disturbs the timing like another process would.
    user, nice, system, idle, iowait, irq, softirq = fields[:7]
    steal = fields[7] if len(fields) > 7 else 0
    return user + nice + system + irq + softirq + steal


class BusyProbe:
    """Measures the CPU that processes other than ours used during a window, in cores.

    The machine's busy jiffies minus our own (all threads, and reaped children) over the wall
    time. /proc/stat counts in jiffies (10 ms), so the threshold allows a few jiffies of
    rounding on short windows.
    """

    def __init__(self, threshold_cores):
        self.threshold = threshold_cores

    def start(self):
        t = os.times()
        self._t0 = (time.perf_counter(), proc_stat(), t.user + t.system + t.children_user + t.children_system)

    def stop(self):
        wall0, busy0, own0 = self._t0
        t = os.times()
        wall = time.perf_counter() - wall0
        busy = (proc_stat() - busy0) / CLK_TCK
        own = t.user + t.system + t.children_user + t.children_system - own0
        other = max(0.0, busy - own) / max(wall, 1e-9)
        allowance = 3.0 / CLK_TCK / max(wall, 1e-9)
        return other, other > self.threshold + allowance


def summarize(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": values}


def wait_quiet(probe, max_wait_s, slice_s=0.1):
    """Waits until other processes leave the CPU for one slice (or max_wait_s passes); returns the seconds waited.

    Rerunning at once after a busy run mostly lands in the same burst (a compiler, a test run),
    so a rerun waits for a quiet slice first."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < max_wait_s:
        probe.start()
        time.sleep(slice_s)
        _, busy = probe.stop()
        if not busy:
            break
    return time.perf_counter() - t0


def timed_runs(fn, reps, probe, max_reruns, max_wait_s=2.0):
    """Calls fn() (returns one figure) reps times; a run taken while other processes used the CPU
    is thrown away and taken again after a quiet slice, up to max_reruns times for the whole figure.
    Runs still busy after that are kept and counted in busy_unresolved."""
    values, reruns, unresolved, other_max, waited = [], 0, 0, 0.0, 0.0
    while len(values) < reps:
        probe.start()
        v = fn()
        other, busy = probe.stop()
        if busy and reruns < max_reruns:
            reruns += 1
            waited += wait_quiet(probe, max_wait_s)
            continue
        if busy:
            unresolved += 1
        other_max = max(other_max, other)
        values.append(v)
    out = summarize(values)
    out.update({"reruns": reruns, "busy_unresolved": unresolved, "other_cpu_max_cores": round(other_max, 3),
                "waited_for_quiet_s": round(waited, 2)})
    return out


# ---------------------------------------------------------------------------------------------
# The warm-up and timed-run rule: the twin of Timed.Rule / Timed.WarmUp (bench/src/main/java/dev/kiln/bench/Timed.java).
# Its constants come from Java on the command line (--rule, which Bench passes), so the two cannot drift.
# ---------------------------------------------------------------------------------------------

RULE_KEYS = ("min_steps", "min_s", "window", "tolerance", "jit_quiet_s", "cap_s", "sample_s", "run_s", "run_steps")
TRACE_HEAD, TRACE_TAIL = 8, 32


def parse_rule(text):
    """The rule from its command-line form min_steps=5,min_s=1.0,... (Timed.Rule.encoded()); every key, no other."""
    rule = {}
    for part in text.split(","):
        key, eq, value = part.partition("=")
        key = key.strip()
        if not eq or key not in RULE_KEYS:
            raise ValueError("--rule: '%s' is not one of %s as key=value (got '%s')" % (part, list(RULE_KEYS), text))
        rule[key] = int(value) if key in ("min_steps", "window", "run_steps") else float(value)
    missing = [k for k in RULE_KEYS if k not in rule]
    if missing:
        raise ValueError("--rule needs every key of %s; missing %s in '%s'" % (list(RULE_KEYS), missing, text))
    return rule


def ms(seconds):
    return float("%.4g" % (1e3 * seconds))


class WarmUp:
    """A warm-up in progress, fed one sample at a time: says when the rule is met or its cap is hit, and keeps the trace.

    Python has no JIT: the rule's JIT condition is always met here (Timed.WarmUp with jitMsAtStart = -1)."""

    def __init__(self, rule):
        self.rule = rule
        self.steps, self.seconds, self.ends = [], [], []
        self.total_steps, self.elapsed = 0, 0.0
        self.unmet = ["no sample yet"]
        self.done = self.cap_hit = False

    def next_sample_steps(self):
        """One step, or as many as fill about sample_s at the last sample's pace."""
        if not self.steps:
            return 1
        per_step = self.seconds[-1] / self.steps[-1]
        return int(max(1, min(1 << 20, math.floor(self.rule["sample_s"] / max(per_step, 1e-9)))))

    def add(self, sample_steps, sample_seconds, elapsed):
        """Records a sample; returns True once the warm-up is over (rule met, or cap hit)."""
        if self.done:
            raise RuntimeError("warm-up already ended (%s)" % self.ended_by())
        self.steps.append(sample_steps)
        self.seconds.append(sample_seconds)
        self.ends.append(elapsed)
        self.total_steps += sample_steps
        self.elapsed = elapsed
        self.unmet = self._unmet()
        if not self.unmet:
            self.done = True
        elif elapsed >= self.rule["cap_s"]:
            self.done = self.cap_hit = True
        return self.done

    def _unmet(self):
        r, out, n, w = self.rule, [], len(self.steps), self.rule["window"]
        if self.total_steps < r["min_steps"]:
            out.append("fewer than %d steps" % r["min_steps"])
        if self.elapsed < r["min_s"]:
            out.append("under %s s" % r["min_s"])
        if n < 2 * w:
            out.append("fewer than %d samples" % (2 * w))
        else:
            last, before = self._median(n - w, w), self._median(n - 2 * w, w)
            if abs(last - before) > r["tolerance"] * before:
                out.append("step time not stable (%.4g ms vs %.4g ms before)" % (1e3 * last, 1e3 * before))
        return out

    def _median(self, start, count):
        return statistics.median(self.seconds[i] / self.steps[i] for i in range(start, start + count))

    def per_step_seconds(self):
        """The median per-step time of the last window: the pace the timed runs start from."""
        n = len(self.steps)
        return float("nan") if n == 0 else self._median(max(0, n - self.rule["window"]), min(n, self.rule["window"]))

    def ended_by(self):
        if not self.done:
            return "running: " + "; ".join(self.unmet)
        return "cap hit at %s s: %s" % (self.rule["cap_s"], "; ".join(self.unmet)) if self.cap_hit else "rule met"

    def trace(self):
        """[steps so far, seconds so far, ms per step]: the first TRACE_HEAD samples one by one, the rest in <= TRACE_TAIL groups."""
        n, out, steps_so_far, i = len(self.steps), [], 0, 0
        head = min(n, TRACE_HEAD)
        group = math.ceil((n - head) / TRACE_TAIL)
        while i < n:
            end = i + 1 if i < head else min(n, i + group)
            s, t = sum(self.steps[i:end]), sum(self.seconds[i:end])
            steps_so_far += s
            out.append([steps_so_far, round(self.ends[end - 1], 3), ms(t / s)])
            i = end
        return out

    def record(self):
        rec = {"ended_by": "cap" if self.cap_hit else ("rule" if self.done else "running"), "cap_hit": self.cap_hit}
        if self.cap_hit:
            rec["unmet"] = self.unmet
        rec.update({"steps": self.total_steps, "seconds": round(self.elapsed, 3), "samples": len(self.steps), "jit": "none (CPython)",
                    "last_window_ms": ms(self.per_step_seconds()), "trace": self.trace()})
        return rec


def warm_up(step, rule):
    """Runs step() by the rule's warm-up; returns the finished WarmUp."""
    w = WarmUp(rule)
    t0 = time.perf_counter()
    while True:
        k = w.next_sample_steps()
        s0 = time.perf_counter()
        for _ in range(k):
            step()
        s1 = time.perf_counter()
        if w.add(k, s1 - s0, s1 - t0):
            return w


def timed_run(step, rule, per_step):
    """Whole steps until at least run_steps steps and run_s have passed, in chunks sized from the pace; (steps, seconds)."""
    chunk = max(rule["run_steps"], math.ceil(rule["run_s"] / max(per_step, 1e-9)))
    done, t0 = 0, time.perf_counter()
    while True:
        for _ in range(chunk):
            step()
        done += chunk
        el = time.perf_counter() - t0
        if done >= rule["run_steps"] and el >= rule["run_s"]:
            return done, el
        chunk = max(1, math.ceil((rule["run_s"] - el) / max(el / done, 1e-9)))


def throughput(step, units_per_step, rule, reps, probe, max_reruns, max_wait, before_timed_runs=None):
    """Warm-up by the rule, then timed_runs over timed_run()s, in units_per_step (samples, GFLOP) per second (Timed.throughput)."""
    w = warm_up(step, rule)
    pace, shortest = [w.per_step_seconds()], [float("inf"), float("inf")]
    if before_timed_runs is not None:
        before_timed_runs()

    def one_run():
        n, el = timed_run(step, rule, pace[0])
        pace[0] = el / n
        shortest[0], shortest[1] = min(shortest[0], n), min(shortest[1], el)
        return n * units_per_step / el
    out = timed_runs(one_run, reps, probe, max_reruns, max_wait)
    out.update({"steps_per_run_min": shortest[0], "run_s_min": round(shortest[1], 3), "warmup": w.record()})
    return out


# ---------------------------------------------------------------------------------------------
# OpenBLAS facts (inside a process that has loaded numpy)
# ---------------------------------------------------------------------------------------------

def loaded_blas_paths():
    paths = set()
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and ("blas" in parts[-1] or "lapack" in parts[-1]):
                paths.add(parts[-1])
    return sorted(paths)


def openblas_facts():
    """Version, core type and threads of the OpenBLAS this process runs; raises if it runs another BLAS."""
    import numpy as np
    np.dot(np.ones((8, 8), np.float32), np.ones((8, 8), np.float32))
    paths = loaded_blas_paths()
    lib_path = next((p for p in paths if "openblas" in os.path.basename(p)), None)
    if lib_path is None:
        raise RuntimeError("numpy does not run OpenBLAS (loaded: %s); run bench/scripts/install-peer.sh" % paths)
    lib = ctypes.CDLL(lib_path)
    lib.openblas_get_corename.restype = ctypes.c_char_p
    lib.openblas_get_config.restype = ctypes.c_char_p
    facts = {"library": lib_path, "loaded": paths,
             "corename": lib.openblas_get_corename().decode(),
             "config": lib.openblas_get_config().decode().strip(),
             "num_threads": lib.openblas_get_num_threads()}
    try:
        from threadpoolctl import threadpool_info
        for pool in threadpool_info():
            if pool.get("internal_api") == "openblas":
                facts.update({"version": pool.get("version"), "threading_layer": pool.get("threading_layer"),
                              "architecture": pool.get("architecture")})
    except ImportError:
        pass
    if "version" not in facts:
        words = facts["config"].split()
        facts["version"] = words[1] if len(words) > 1 and words[0] == "OpenBLAS" else None
    return facts


def child_env(intra, blas, cap=None):
    env = dict(os.environ)
    for var in THREAD_VARS_UNSET:
        env.pop(var, None)
    # ATen picks its kernels' instruction set once, at import: Debian's build chooses AVX2 even on
    # AVX-512 machines, and ATEN_CPU_CAPABILITY=avx512 switches it. None keeps ATen's own choice.
    env.pop("ATEN_CPU_CAPABILITY", None)
    if cap is not None:
        env["ATEN_CPU_CAPABILITY"] = cap
    env.update({"OMP_NUM_THREADS": str(intra), "MKL_NUM_THREADS": str(intra),
                "OPENBLAS_NUM_THREADS": str(blas), "GOTO_NUM_THREADS": str(blas)})
    return env


def run_child(args, env, timeout):
    """Runs this script as a child with args; returns the JSON it wrote."""
    fd, path = tempfile.mkstemp(prefix="peer-", suffix=".json")
    os.close(fd)
    try:
        cmd = [sys.executable, os.path.abspath(__file__)] + args + ["--result", path]
        proc = subprocess.run(cmd, env=env, timeout=timeout, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            raise RuntimeError("child %s failed (rc %d):\n%s" % (" ".join(args), proc.returncode, proc.stderr[-4000:]))
        with open(path) as f:
            return json.load(f)
    finally:
        os.unlink(path)


# ---------------------------------------------------------------------------------------------
# Models (children only: torch is imported there, after the thread environment is set)
# ---------------------------------------------------------------------------------------------

def build_model(name, torch):
    nn = torch.nn

    def conv_blocks(c):
        layers = []
        for convs, f in ((1, 32), (2, 64), (3, 128)):
            for _ in range(convs):
                layers += [nn.Conv2d(c, f, 3, padding=1), nn.ReLU()]
                c = f
            layers.append(nn.MaxPool2d(2))
        return layers

    if name == "M1":
        return nn.Sequential(nn.Linear(11, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                             nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 1)), nn.L1Loss()
    if name == "M2":
        return nn.Sequential(nn.BatchNorm1d(63), nn.Linear(63, 256), nn.ReLU(), nn.BatchNorm1d(256), nn.Dropout(0.3),
                             nn.Linear(256, 256), nn.ReLU(), nn.BatchNorm1d(256), nn.Dropout(0.3),
                             nn.Linear(256, 1), nn.Sigmoid()), nn.BCELoss()
    if name == "M3":
        return nn.Sequential(*conv_blocks(1), nn.Flatten(), nn.Linear(128 * 3 * 3, 64), nn.ReLU(), nn.Dropout(0.2),
                             nn.Linear(64, 10)), nn.CrossEntropyLoss()
    if name == "M4":
        return nn.Sequential(*conv_blocks(3), nn.Flatten(), nn.Linear(128 * 16 * 16, 6), nn.ReLU(), nn.Dropout(0.2),
                             nn.Linear(6, 1), nn.Sigmoid()), nn.BCELoss()
    raise ValueError(name)


def make_batch(name, batch, layout, torch):
    g = torch.Generator().manual_seed(1234)
    x = torch.randn((batch,) + INPUT[name], generator=g)
    if layout == "channels_last":
        x = x.contiguous(memory_format=torch.channels_last)
    if name == "M1":
        y = torch.randn(batch, 1, generator=g)
    elif name == "M3":
        y = torch.randint(0, 10, (batch,), generator=g)
    else:
        y = torch.randint(0, 2, (batch, 1), generator=g).float()
    return x, y


def import_torch(intra):
    import torch
    torch.set_num_threads(intra)
    torch.set_num_interop_threads(1)
    return torch


def worker_main(a):
    """One (model, t, b, layout) configuration: the figures asked for, in this fresh process."""
    torch = import_torch(a.intra)
    torch.manual_seed(0)
    probe = BusyProbe(a.busy_threshold)
    model, loss_fn = build_model(a.model, torch)
    if a.layout == "channels_last":
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    rule = parse_rule(a.rule)

    def train_fn(batch):
        x, y = make_batch(a.model, batch, a.layout, torch)

        def step():
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
        return step

    def infer_fn(batch):
        x, _ = make_batch(a.model, batch, a.layout, torch)

        def step():
            with torch.inference_mode():
                model(x)
        return step

    def measure(kind, batch):
        model.train(kind == "train")
        step = train_fn(batch) if kind == "train" else infer_fn(batch)
        # The rule's warm-up: the first calls allocate, pick oneDNN primitives and fault pages in.
        out = throughput(step, batch, rule, a.reps, probe, a.max_reruns, a.max_wait)
        out.update({"batch": batch, "unit": "samples/s"})
        return out

    results = {}
    for fig in a.figures.split(","):
        kind, _, b = fig.partition("@")
        results[fig] = measure(kind, int(b))
    pools = []
    try:
        from threadpoolctl import threadpool_info
        pools = [{k: p.get(k) for k in ("internal_api", "num_threads", "architecture")} for p in threadpool_info()]
    except ImportError:
        pass
    caps = [l.split(":", 1)[1].strip() for l in torch.__config__.show().splitlines() if "CPU capability" in l]
    out = {"figures": results, "torch_threads": torch.get_num_threads(), "cpu_capability": caps[0] if caps else None,
           "torch_interop_threads": torch.get_num_interop_threads(), "pools": pools}
    with open(a.result, "w") as f:
        json.dump(out, f)


def first_step_main(a):
    """Prints one line when the first training step has ended; the parent times process start to it."""
    t0 = time.perf_counter()
    torch = import_torch(a.intra)
    t1 = time.perf_counter()
    torch.manual_seed(0)
    model, loss_fn = build_model(a.model, torch)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = make_batch(a.model, BATCH[a.model], "nchw", torch)
    t2 = time.perf_counter()
    opt.zero_grad(set_to_none=True)
    loss_fn(model(x), y).backward()
    opt.step()
    t3 = time.perf_counter()
    sys.stdout.write("STEP-DONE\n")
    sys.stdout.flush()
    with open(a.result, "w") as f:
        json.dump({"import_s": t1 - t0, "build_s": t2 - t1, "step_s": t3 - t2}, f)


def gemm_worker_main(a):
    """numpy float32 GEMM on a.blas OpenBLAS threads: correctness against float64 first, then GFLOP/s."""
    import numpy as np
    if not a.check_only and a.rule is None:
        raise SystemExit("gemm-worker times GEMM only by a rule: pass --rule (or --check-only to check the products only)")
    rule = None if a.check_only else parse_rule(a.rule)
    facts = openblas_facts()
    probe = BusyProbe(a.busy_threshold)
    rng = np.random.default_rng(42)
    shapes = json.loads(a.shapes)
    results = []
    for label, m, n, k in shapes:
        A = rng.standard_normal((m, k), dtype=np.float32)
        B = rng.standard_normal((k, n), dtype=np.float32)
        C = np.empty((m, n), np.float32)
        np.matmul(A, B, out=C)
        # Elementwise forward-error bound for a float32 dot product of length k:
        # |C - AB| <= k*u*(|A||B|), u = 2^-24. A wrong kernel (bad core type, broken build) is far off.
        ref = A.astype(np.float64) @ B.astype(np.float64)
        scale = np.abs(A).astype(np.float64) @ np.abs(B).astype(np.float64)
        ratio = float(np.max(np.abs(C - ref) / (k * 2.0 ** -24 * scale)))
        if not ratio <= 1.0:
            raise RuntimeError("OpenBLAS sgemm %dx%dx%d is wrong: error %.3g x the bound" % (m, n, k, ratio))
        del ref, scale
        flop = 2.0 * m * n * k
        if a.check_only:
            results.append({"label": label, "m": m, "n": n, "k": k, "error_over_bound": ratio})
            continue
        # one call is one step of the rule: GFLOP per call, per second
        r = throughput(lambda: np.matmul(A, B, out=C), flop / 1e9, rule, a.reps, probe, a.max_reruns, a.max_wait)
        r.update({"label": label, "m": m, "n": n, "k": k, "unit": "GFLOP/s",
                  "error_over_bound": ratio})
        results.append(r)
    with open(a.result, "w") as f:
        json.dump({"openblas": facts, "shapes": results}, f)


# ---------------------------------------------------------------------------------------------
# Parent: configurations, best-of, derived figures
# ---------------------------------------------------------------------------------------------

def thread_configs(max_threads):
    ts = [t for t in (1, 2) if t <= max_threads]
    return [(t, b) for t in ts for b in ts]


def config_name(t, b, layout, cap=None):
    return "t%d b%d" % (t, b) + ("" if layout is None else " " + layout) + ("" if cap is None else " " + cap)


def cpu_capabilities():
    """ATEN_CPU_CAPABILITY values worth searching here: None (ATen's own pick) and avx512 where the CPU has it."""
    flags = set(cpu_info().get("simd", []))
    return [None] + (["avx512"] if {"avx512f", "avx512bw", "avx512vl"} <= flags else [])


def common_child_args(s):
    return ["--rule", s.rule, "--reps", str(s.reps), "--max-reruns", str(s.max_reruns), "--max-wait", str(s.max_wait),
            "--busy-threshold", str(s.busy_threshold)]


def pick_best(configs):
    return max(configs, key=lambda c: c["median"])


def log(msg):
    sys.stderr.write("[peer] %s\n" % msg)
    sys.stderr.flush()


def quick_configs(model, max_threads):
    """The thread/layout configurations quick mode searches (ATen's own capability; the others follow in the best one).

    Quick mode searches fewer configurations, never shorter warm-ups or runs: the pair an expert tries on two cores,
    t = max b = 1 and t = 1 b = max (the OpenMP pool and the OpenBLAS pool on one core each, or all cores for one of them);
    conv models in channels_last only (it won every full run); M4 in t = max b = 1 only (about a third of a second a
    training step; one thread was 1.8x slower and channels_last faster in every full run)."""
    confs = []
    for c in ((max_threads, 1), (1, max_threads)):
        if c not in confs:
            confs.append(c)
    if model == "M4":
        confs = confs[:1]
    return confs, (["channels_last"] if model in CONV_MODELS else [None])


def model_figures(model, quick):
    """Figures measured for a model; quick mode leaves out M4 inference at batch 256 (seconds a step: the rule's
    warm-up and three timed runs of ten steps take about two minutes on two cores)."""
    figs = ["train@%d" % BATCH[model], "infer@1", "infer@256"]
    return figs[:2] if quick and model == "M4" else figs


def run_models(s, phases):
    quick = s.quick
    records, sweeps, scaling, first = [], [], [], None
    for model in s.models:
        t_model = time.perf_counter()
        conv = model in CONV_MODELS
        if quick:
            confs, layouts = quick_configs(model, s.max_threads)
        else:
            confs, layouts = thread_configs(s.max_threads), (["nchw", "channels_last"] if conv else [None])
        figs = model_figures(model, quick)
        per_fig = {f: [] for f in figs}

        def run_config(t, b, layout, cap):
            name = config_name(t, b, layout, cap)
            log("%s %s: %s" % (model, name, ",".join(figs)))
            res = run_child(["worker", "--model", model, "--intra", str(t), "--blas", str(b),
                             "--layout", layout or "nchw", "--figures", ",".join(figs)] + common_child_args(s),
                            child_env(t, b, cap), timeout=1800)
            for f, r in res["figures"].items():
                r.update({"config": name, "intra_threads": t, "blas_threads": b, "layout": layout, "cpu_capability_env": cap,
                          "cpu_capability_seen": res.get("cpu_capability"),
                          "torch_threads_seen": res["torch_threads"], "pools_seen": res["pools"]})
                per_fig[f].append(r)
        # Full mode searches every capability in every configuration; quick mode searches its configurations
        # with ATen's own pick, then tries the other capabilities in the best training configuration (not M4).
        for cap in (s.caps if not quick else s.caps[:1]):
            for layout in layouts:
                for t, b in confs:
                    run_config(t, b, layout, cap)
        if quick and model != "M4":
            grid_best = pick_best(per_fig["train@%d" % BATCH[model]])
            for cap in s.caps[1:]:
                run_config(grid_best["intra_threads"], grid_best["blas_threads"], grid_best["layout"], cap)
        best_train = pick_best(per_fig["train@%d" % BATCH[model]])
        if quick:
            tried = "quick: %s%s; other ATen capabilities in the best training configuration only%s" % (
                ", ".join(config_name(t, b, l) for l in layouts for t, b in confs),
                "" if not conv else " (channels_last only)", "" if model != "M4" else " (none for M4)")
        else:
            tried = "all"
        for f in figs:
            kind, _, batch = f.partition("@")
            confs_f = per_fig[f]
            best = pick_best(confs_f)
            naive = [c for c in confs_f if c["intra_threads"] == 2 and c["blas_threads"] == 2 and c["layout"] in (None, "nchw")]
            rec = {"model": model, "figure": "train" if kind == "train" else "infer_b%s" % batch,
                   "batch": int(batch), "unit": "samples/s", "configs": confs_f,
                   "best": {"config": best["config"], "median": best["median"], "min": best["min"], "max": best["max"],
                            "warmup": best["warmup"], "run_s_min": best["run_s_min"], "steps_per_run_min": best["steps_per_run_min"],
                            "runs": best["runs"]},
                   "configs_tried": tried,
                   "by_capability": {(cap or "aten-default"): max(c["median"] for c in confs_f if c.get("cpu_capability_env") == cap)
                                     for cap in s.caps if any(c.get("cpu_capability_env") == cap for c in confs_f)},
                   "reruns": sum(c["reruns"] for c in confs_f),
                   "busy_unresolved": sum(c["busy_unresolved"] for c in confs_f)}
            if naive:
                rec["naive"] = {"config": naive[0]["config"], "median": naive[0]["median"],
                                "best_over_naive": best["median"] / naive[0]["median"]}
            one = [c for c in confs_f if c["intra_threads"] == 1 and c["blas_threads"] == 1]
            two = [c for c in confs_f if max(c["intra_threads"], c["blas_threads"]) == 2]
            if one and two:
                b1, b2 = pick_best(one), pick_best(two)
                scaling.append({"model": model, "figure": rec["figure"], "one_thread": {"config": b1["config"], "median": b1["median"]},
                                "two_threads": {"config": b2["config"], "median": b2["median"]},
                                "speedup": b2["median"] / b1["median"]})
            records.append(rec)
            log("%s %s best %s: %.1f samples/s%s" % (model, rec["figure"], best["config"], best["median"],
                ("; naive %s %.2fx slower" % (rec["naive"]["config"], rec["naive"]["best_over_naive"]) if naive else "")))
        if model in s.sweep_models:
            t, b, layout, cap = best_train["intra_threads"], best_train["blas_threads"], best_train["layout"], best_train["cpu_capability_env"]
            batches = [1, 16, 256, 4096] if quick else [2 ** i for i in range(13)]
            figs_s = ["train@%d" % n for n in batches] + ["infer@%d" % n for n in batches]
            log("%s batch sweep in %s: %s" % (model, best_train["config"], batches))
            res = run_child(["worker", "--model", model, "--intra", str(t), "--blas", str(b), "--layout", layout or "nchw",
                             "--figures", ",".join(figs_s)] + common_child_args(s), child_env(t, b, cap), timeout=1800)
            points = []
            for f, r in res["figures"].items():
                kind, _, batch = f.partition("@")
                points.append({"kind": kind, "batch": int(batch), "median": r["median"], "min": r["min"], "max": r["max"],
                               "reruns": r["reruns"], "busy_unresolved": r["busy_unresolved"], "warmup": r["warmup"]})
            sweeps.append({"model": model, "config": best_train["config"], "unit": "samples/s", "points": points})
        if model == "M1":
            first = first_step(s, best_train)
        phases[model] = time.perf_counter() - t_model
    return records, sweeps, scaling, first


def first_step(s, best):
    """Wall time from spawning a fresh interpreter to the end of M1's first training step."""
    t, b = best["intra_threads"], best["blas_threads"]
    env = child_env(t, b, best.get("cpu_capability_env"))
    probe = BusyProbe(s.busy_threshold)
    inner = []

    def one_run():
        fd, path = tempfile.mkstemp(prefix="peer-first-", suffix=".json")
        os.close(fd)
        try:
            t0 = time.perf_counter()
            proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "first-step", "--model", "M1",
                                     "--intra", str(t), "--blas", str(b), "--result", path],
                                    env=env, stdout=subprocess.PIPE, text=True)
            line = proc.stdout.readline()
            elapsed = time.perf_counter() - t0
            proc.wait()
            if proc.returncode != 0 or line.strip() != "STEP-DONE":
                raise RuntimeError("first-step child failed (rc %s)" % proc.returncode)
            with open(path) as f:
                inner.append(json.load(f))
            return elapsed
        finally:
            os.unlink(path)
    log("M1 time to first training step in %s" % best["config"])
    r = timed_runs(one_run, s.reps, probe, s.max_reruns, s.max_wait)
    # timed_runs ranks 'higher is better' only for its median; min/max are plain order statistics.
    r.update({"model": "M1", "config": best["config"], "unit": "s", "breakdown_last": inner[-1]})
    return r


def run_gemm(s):
    squares = [("square %d" % n, n, n, n) for n in SQUARE_SIZES]
    out = []
    # Quick mode times GEMM on Kiln's thread count only (as GemmBench does); full mode on 1 and 2 threads.
    for b in [x for x in (1, 2) if x <= s.max_threads and (not s.quick or x == min(2, s.max_threads))]:
        shapes = squares + [list(x) for x in s.shapes]
        log("GEMM on %d OpenBLAS thread(s), %d shapes" % (b, len(shapes)))
        res = run_child(["gemm-worker", "--blas", str(b), "--shapes", json.dumps(shapes)] + common_child_args(s),
                        child_env(1, b), timeout=1800)
        out.append({"threads": b, "openblas": res["openblas"], "shapes": res["shapes"]})
    return out


def peer_facts():
    import numpy as np
    facts = {"python": sys.version.split()[0], "numpy": np.__version__}
    env = child_env(1, 1)
    code = ("import json,torch;print(json.dumps({'torch':torch.__version__,"
            "'capability':[l.split(':',1)[1].strip() for l in torch.__config__.show().splitlines() if 'CPU capability' in l],"
            "'parallel':torch.__config__.parallel_info().splitlines()[:8]}))")
    out = subprocess.run([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True, check=True).stdout
    facts.update(json.loads(out.strip().splitlines()[-1]))
    return facts


def gemm_shapes(shapes_arg, quick):
    """The model shapes GEMM times: --shapes as given, else MODEL_GEMM_SHAPES, of which quick mode keeps QUICK_GEMM_LABELS."""
    if shapes_arg:
        return parse_shapes(shapes_arg)
    return [list(x) for x in MODEL_GEMM_SHAPES if not quick or x[0] in QUICK_GEMM_LABELS]


def parse_shapes(text):
    shapes = []
    for part in filter(None, text.split(",")):
        m, n, k = (int(v) for v in part.lower().split("x"))
        shapes.append(("%dx%dx%d" % (m, n, k), m, n, k))
    return shapes


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    for mode in ("all", "models", "gemm"):
        q = sub.add_parser(mode)
        q.add_argument("--out", required=True, help="JSON result path")
        q.add_argument("--quick", action="store_true",
                       help="fewer configurations and shapes, never shorter warm-ups or runs (the rule is the same)")
        q.add_argument("--rule", required=True,
                       help="the warm-up and timed-run rule as key=value,... (keys: %s); ./kiln bench passes "
                            "Java's Timed.Rule.STANDARD, so both sides follow the same constants" % ",".join(RULE_KEYS))
        q.add_argument("--models", default=",".join(MODELS), help="comma list of M1,M2,M3,M4")
        q.add_argument("--sweep-models", default="M1", help="models with a batch-size sweep (M1: 1..4096)")
        q.add_argument("--max-threads", type=int, default=cores(), help="threads Kiln uses (default: usable CPUs)")
        q.add_argument("--shapes", default=None,
                       help="GEMM shapes MxNxK,... (default: the Dense/conv im2col shapes of M1-M4)")
        q.add_argument("--reps", type=int, default=None, help="timed runs per figure (>= 3)")
        q.add_argument("--busy-threshold", type=float, default=0.10,
                       help="other processes' CPU use (cores) above which a timed run is taken again")
        q.add_argument("--max-reruns", type=int, default=None, help="reruns per figure (quick 3, full 20)")
        q.add_argument("--max-wait", type=float, default=None,
                       help="seconds a rerun waits for a quiet machine (quick 1, full 10)")
        q.add_argument("--cpu-capabilities", default=None,
                       help="ATEN_CPU_CAPABILITY values to search, comma list; aten-default = unset "
                            "(default: aten-default, plus avx512 on AVX-512 CPUs)")
    for mode in ("worker", "first-step", "gemm-worker"):
        q = sub.add_parser(mode)
        q.add_argument("--result", required=True)
        q.add_argument("--model", default="M1")
        q.add_argument("--intra", type=int, default=1)
        q.add_argument("--blas", type=int, default=1)
        q.add_argument("--layout", default="nchw")
        q.add_argument("--figures", default="")
        q.add_argument("--shapes", default="[]")
        q.add_argument("--rule", required=(mode == "worker"), help="as for 'all' (the parent passes its own)")
        q.add_argument("--check-only", action="store_true", help="gemm-worker: check the products, time nothing")
        q.add_argument("--reps", type=int, default=3)
        q.add_argument("--max-reruns", type=int, default=5)
        q.add_argument("--busy-threshold", type=float, default=0.10)
        q.add_argument("--max-wait", type=float, default=2.0)
    a = p.parse_args()
    if a.mode == "worker":
        return worker_main(a)
    if a.mode == "first-step":
        return first_step_main(a)
    if a.mode == "gemm-worker":
        return gemm_worker_main(a)

    s = a
    s.models = [m.strip().upper() for m in a.models.split(",") if m.strip()]
    bad = [m for m in s.models if m not in MODELS]
    if bad:
        p.error("unknown models %s" % bad)
    s.sweep_models = [m.strip().upper() for m in a.sweep_models.split(",") if m.strip()]
    s.reps = max(3, a.reps or (3 if a.quick else 5))
    s.max_reruns = a.max_reruns if a.max_reruns is not None else (3 if a.quick else 20)
    s.max_wait = a.max_wait if a.max_wait is not None else (1.0 if a.quick else 10.0)
    try:
        s.rule_constants = parse_rule(a.rule)
    except ValueError as e:
        p.error(str(e))
    s.shapes = gemm_shapes(a.shapes, a.quick)
    if a.cpu_capabilities:
        s.caps = [None if c in ("", "aten-default") else c for c in a.cpu_capabilities.split(",")]
    else:
        s.caps = cpu_capabilities()

    start = time.perf_counter()
    machine = cpu_info()
    result = {"schema": SCHEMA, "quick": a.quick, "machine": machine,
              "environment": {"unset_in_peer": {v: os.environ.get(v) for v in THREAD_VARS_UNSET},
                              "note": "OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are removed from the peer's child processes only"},
              "settings": {"reps": s.reps, "max_reruns_per_figure": s.max_reruns, "max_wait_s": s.max_wait, "busy_threshold_cores": s.busy_threshold,
                           "rule": s.rule_constants, "max_threads": s.max_threads,
                           "thread_configs": thread_configs(s.max_threads),
                           "search": ("quick: %s (M4: the first only); conv models in channels_last; the other ATen capabilities "
                                      "in the best training configuration (not M4)" % ", ".join(
                                          config_name(t, b, None) for t, b in quick_configs("M1", s.max_threads)[0]))
                           if a.quick else "every t x b, NCHW and channels_last for M3/M4, every ATEN_CPU_CAPABILITY",
                           "cpu_capabilities": [c or "aten-default" for c in s.caps]}}
    result["peer"] = peer_facts()
    # The peer's BLAS is checked before anything is timed: numpy must run OpenBLAS.
    check = run_child(["gemm-worker", "--blas", "1", "--shapes", json.dumps([["check", 64, 64, 64]]), "--check-only"],
                      child_env(1, 1), timeout=300)
    result["peer"]["openblas"] = check["openblas"]
    log("peer: torch %s, numpy %s, OpenBLAS %s core %s, CPU %s (%d usable)" % (
        result["peer"]["torch"], result["peer"]["numpy"], check["openblas"].get("version"),
        check["openblas"]["corename"], machine.get("model_name"), machine["usable_cpus"]))
    phases = result["phase_s"] = {}
    if a.mode in ("all", "gemm"):
        t0 = time.perf_counter()
        result["gemm"] = run_gemm(s)
        phases["gemm"] = time.perf_counter() - t0
    if a.mode in ("all", "models"):
        t0 = time.perf_counter()
        recs, sweeps, scaling, first = run_models(s, phases)
        phases["models"] = time.perf_counter() - t0
        result.update({"models": recs, "batch_sweep": sweeps, "thread_scaling": scaling})
        if first is not None:
            result["first_step"] = first
    result["total_reruns"] = (sum(r["reruns"] for r in result.get("models", []))
                              + sum(p["reruns"] for sw in result.get("batch_sweep", []) for p in sw["points"])
                              + sum(x["reruns"] for g in result.get("gemm", []) for x in g["shapes"])
                              + result.get("first_step", {}).get("reruns", 0))
    result["wall_s"] = time.perf_counter() - start
    with open(a.out, "w") as f:
        json.dump(result, f, indent=1)
    log("wrote %s in %.1f s (%d reruns for a busy machine)" % (a.out, result["wall_s"], result["total_reruns"]))


if __name__ == "__main__":
    sys.exit(main())
