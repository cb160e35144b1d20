#!/usr/bin/env python3
"""PyTorch on the GPU, beside Kiln's CUDA backend: M1 and M2 training samples/s, eager and compiled.

Part of the GPU machine's run (./kiln gpu-pack, scripts/gpu-run.sh). The models, batches and Adam(1e-3) are
peer_bench.py's (the CPU bench's peer), moved to the device:

    python3 gpu_peer.py bench   --models M1,M2 --out torch-gpu.json [--device cuda] [--seconds 1.0] [--no-compile]
    python3 gpu_peer.py summary --kiln kiln-gpu.json --torch torch-gpu.json --out summary.md

Variants:
  eager     the training step as written (zero_grad, forward, loss, backward, Adam.step)
  compiled  the model under torch.compile(mode="reduce-overhead"): forward and backward as CUDA graphs (Inductor's
            cudagraph trees); Adam.step stays eager
Samples/s: warm-up (20 steps eager, 30 compiled, the first of which compile), then the median of three runs of at
least --seconds each, timed with the device synchronised before and after. A variant that fails records its error.
"""
import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_bench  # noqa: E402  (the models and batches of the CPU bench)


def train_step(model, loss_fn, opt, x, y):
    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def samples_per_s(step, batch, seconds, warmup, torch, device):
    def sync():
        if device.startswith("cuda"):
            torch.cuda.synchronize()
    for _ in range(warmup):
        step()
    sync()
    rates = []
    for _ in range(3):
        n, t0 = 0, time.perf_counter()
        while True:
            step()
            n += 1
            if n % 16 == 0:
                sync()
                if time.perf_counter() - t0 >= seconds:
                    break
        rates.append(n * batch / (time.perf_counter() - t0))
    return statistics.median(rates), rates


def bench_model(name, variant, device, seconds, torch):
    torch.manual_seed(0)
    model, loss_fn = peer_bench.build_model(name, torch)
    model = model.to(device).train()
    batch = peer_bench.BATCH[name]
    x, y = peer_bench.make_batch(name, batch, "default", torch)
    x, y = x.to(device), y.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    run = model
    t0 = time.perf_counter()
    if variant == "compiled":
        run = torch.compile(model, mode="reduce-overhead")
    step = train_step(run, loss_fn, opt, x, y)
    warmup = 30 if variant == "compiled" else 20
    median, rates = samples_per_s(step, batch, seconds, warmup, torch, device)
    return {"samples_per_s": median, "runs": rates, "batch": batch, "warmup_steps": warmup,
            "warmup_and_runs_s": time.perf_counter() - t0}


def bench_main(a):
    try:
        import torch
    except ImportError as e:
        info = {"error": "PyTorch is not importable by %s: %s" % (sys.executable, e)}
        write(a.out, info)
        print(info["error"])
        return 1
    info = {"torch": torch.__version__, "device": a.device, "python": sys.version.split()[0]}
    if a.device.startswith("cuda"):
        if not torch.cuda.is_available():
            info["error"] = "torch.cuda.is_available() is False: no GPU for PyTorch"
            write(a.out, info)
            print(info["error"])
            return 1
        info["gpu"] = torch.cuda.get_device_name(0)
        info["cuda"] = torch.version.cuda
        info["cudnn"] = torch.backends.cudnn.version()
        # The same precision as Kiln's f32 run: no TF32 in matmuls or convolutions.
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    results = {}
    variants = ["eager"] + ([] if a.no_compile else ["compiled"])
    for name in a.models.split(","):
        for variant in variants:
            key = "%s %s" % (name, variant)
            try:
                results[key] = bench_model(name, variant, a.device, a.seconds, torch)
                print("%s: %.0f samples/s" % (key, results[key]["samples_per_s"]), flush=True)
            except Exception as e:  # a variant that fails is recorded, the others still run
                results[key] = {"error": "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")}
                print("%s: FAILED %s" % (key, results[key]["error"]), flush=True)
    info["results"] = results
    write(a.out, info)
    return 0


def write(path, obj):
    if path:
        with open(path, "w") as f:
            json.dump(obj, f, indent=1)


def load(path):
    try:
        with open(path) as f:
            return json.load(f), None
    except (OSError, ValueError) as e:
        return None, "%s: %s" % (path, e)


def summary_text(kiln, torch_res):
    """The Markdown table: per model, Kiln GPU/CPU samples/s, PyTorch eager/compiled, and the ratios."""
    lines = ["# Kiln on the GPU vs PyTorch", ""]
    if kiln is None:
        lines.append("Kiln: no result file (its step failed or timed out; see run.log).")
    else:
        state = "usable" if kiln.get("cuda_usable") else "device present, backend not yet verified" if kiln.get("cuda_present") else "NO device"
        lines.append("Kiln CUDA backend: %s - %s" % (state, kiln.get("cuda_summary")))
    if torch_res is not None:
        lines.append("PyTorch %s on %s (CUDA %s, cuDNN %s)%s" % (torch_res.get("torch"), torch_res.get("gpu", torch_res.get("device")),
                     torch_res.get("cuda"), torch_res.get("cudnn"), "; " + torch_res["error"] if "error" in torch_res else ""))
    lines += ["", "| model | Kiln GPU | Kiln CPU | loss curves GPU vs CPU | PyTorch eager | PyTorch compiled | Kiln/eager | Kiln/compiled |",
              "|---|---|---|---|---|---|---|---|"]
    models = sorted(set((kiln or {}).get("models", {}).keys()) | {k.split()[0] for k in (torch_res or {}).get("results", {})})
    for m in models:
        k = (kiln or {}).get("models", {}).get(m, {})
        t = (torch_res or {}).get("results", {})
        eager, comp = t.get(m + " eager", {}).get("samples_per_s"), t.get(m + " compiled", {}).get("samples_per_s")
        gpu = k.get("gpu_samples_per_s")
        if gpu is not None:
            curves = "%s (max rel. diff. %s)" % ("agree" if k.get("curves_agree") else "DIFFER", k.get("max_relative_loss_difference"))
        else:
            curves = "not run"
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (m, fmt(gpu), fmt(k.get("cpu_samples_per_s")), curves, fmt(eager), fmt(comp),
                                                               ratio(gpu, eager), ratio(gpu, comp)))
    errors = [(m, v["gpu_error"]) for m, v in (kiln or {}).get("models", {}).items() if "gpu_error" in v]
    errors += [(k, v["error"]) for k, v in (torch_res or {}).get("results", {}).items() if "error" in v]
    if errors:
        lines += [""] + ["- %s: %s" % e for e in errors]
    return "\n".join(lines) + "\n"


def lessons_text(lessons):
    """GpuLessons' results (kiln-lessons.json): M3 on the subset, CPU vs CUDA test accuracy, and the transfer lesson on CUDA."""
    if lessons is None:
        return "\nLessons: no result file (their step failed, timed out or was skipped; see run.log).\n"
    if not lessons.get("cuda_present"):
        return "\nLessons: not run, no CUDA device (%s).\n" % lessons.get("cuda_summary")
    lines = ["", "## Lessons on CUDA", ""]
    m3 = lessons.get("m3", {})
    if "error" in m3 or "cpu" not in m3:
        lines.append("- M3 on the subset: %s" % m3.get("error", "not run"))
    else:
        cpu, gpu = m3["cpu"], m3["cuda"]
        lines.append("- M3 on the subset, %s epochs: test accuracy CPU %.4f (%.0f s), CUDA %.4f (%.0f s): %s" % (
            m3.get("epochs"), cpu["test_accuracy"], cpu["train_seconds"], gpu["test_accuracy"], gpu["train_seconds"],
            "reaches the CPU's" if m3.get("reaches_cpu_accuracy") else "does NOT reach the CPU's (0.5 points)"))
    t = lessons.get("transfer", {})
    if "error" in t or "frozen_test_accuracy" not in t:
        lines.append("- transfer: %s" % t.get("error", "not run"))
    else:
        lines.append("- transfer on %s: frozen pretrained base %.4f, scratch %.4f, base unchanged: %s" % (
            t.get("backend"), t["frozen_test_accuracy"], t["scratch_test_accuracy"], t.get("frozen_base_unchanged")))
    b = lessons.get("bf16", {})
    if "error" in b or "bf16" not in b:
        lines.append("- M3 in bf16: %s" % b.get("error", "not run"))
    else:
        lines.append("- M3 in bf16 on CUDA: test accuracy %.4f against f32's %.4f: %s" % (
            b["bf16"]["test_accuracy"], b["f32"]["test_accuracy"], "within 0.5 points" if b.get("within_bar") else "NOT within 0.5 points"))
    return "\n".join(lines) + "\n"


def fmt(v):
    return "-" if v is None else "%.0f" % v


def ratio(a, b):
    return "-" if a is None or not b else "%.2fx" % (a / b)


def summary_main(a):
    kiln, kerr = load(a.kiln)
    torch_res, terr = load(a.torch)
    text = summary_text(kiln, torch_res)
    if a.lessons:
        lessons, lerr = load(a.lessons)
        text += lessons_text(lessons)
    for e in (kerr, terr):
        if e:
            text += "- missing: %s\n" % e
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bench")
    b.add_argument("--models", default="M1,M2")
    b.add_argument("--out")
    b.add_argument("--device", default="cuda")
    b.add_argument("--seconds", type=float, default=1.0)
    b.add_argument("--no-compile", action="store_true")
    s = sub.add_parser("summary")
    s.add_argument("--kiln", required=True)
    s.add_argument("--torch", required=True)
    s.add_argument("--lessons")
    s.add_argument("--out")
    a = p.parse_args()
    return bench_main(a) if a.cmd == "bench" else summary_main(a)


if __name__ == "__main__":
    sys.exit(main())
