#!/usr/bin/python3
"""Writes the PyTorch parity fixtures under engine/src/test/resources/fixtures/.

One safetensors file per case, float32, tensors in Kiln layouts:
activations NHWC, conv filters HWIO [KH, KW, C/groups, F], matmul operands row-major as passed
(a transposed operand is stored in its stored layout, e.g. [K, M] for transpose_a).
Attributes are strings in __metadata__; every file has "op" (which checker applies),
"torch_version" and "generator". Values are computed in float64 and rounded to float32 once,
so a Kiln float32 result should match to float32 rounding plus its own accumulation error.

Run with Debian's python3-torch:  /usr/bin/python3 bench/python/make_fixtures.py
The output is deterministic for a given torch version (every case seeds its own generator).
"""
import json
import os
import struct
import sys

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "engine", "src", "test", "resources", "fixtures")


def write_safetensors(path, tensors, metadata):
    """The format by hand: u64 LE header length, JSON header padded to 8 bytes, F32 LE data."""
    header = {"__metadata__": {k: str(v) for k, v in metadata.items()}}
    blobs, offset = [], 0
    for name, t in tensors.items():
        t = t.detach().to(torch.float32).contiguous()
        data = struct.pack("<%df" % t.numel(), *t.flatten().tolist())
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


CASES = []


def case(fn):
    CASES.append(fn)
    return fn


def gen(seed):
    g = torch.Generator().manual_seed(seed)
    return lambda *shape: torch.randn(*shape, generator=g)


def save(name, op, tensors, **attrs):
    meta = {"op": op, "torch_version": torch.__version__, "generator": "bench/python/make_fixtures.py"}
    meta.update({k: (str(v).lower() if isinstance(v, bool) else v) for k, v in attrs.items()})
    write_safetensors(os.path.join(OUT, name + ".safetensors"), tensors, meta)
    return name


def nchw(x):  # NHWC -> NCHW
    return x.permute(0, 3, 1, 2)


def nhwc(x):  # NCHW -> NHWC
    return x.permute(0, 2, 3, 1)


# ---------------------------------------------------------------- matmul
@case
def matmul():
    specs = [  # name, a shape as stored, b shape as stored, transpose_a, transpose_b
        ("matmul_plain", (3, 4), (4, 5), False, False),
        ("matmul_ta", (4, 3), (4, 5), True, False),
        ("matmul_tb", (3, 4), (5, 4), False, True),
        ("matmul_ta_tb", (4, 3), (5, 4), True, True),
        ("matmul_batched", (2, 3, 4), (2, 4, 5), False, False),
        ("matmul_broadcast", (2, 3, 4), (4, 5), False, False),
        # wider than a 16-lane vector in K and N (2 x 16 + remainder), so the SIMD main loops run, not only tails
        ("matmul_wide", (9, 37), (37, 35), False, False),
    ]
    for i, (name, sa, sb, ta, tb) in enumerate(specs):
        r = gen(100 + i)
        a = r(*sa).requires_grad_()
        b = r(*sb).requires_grad_()
        y = torch.matmul(a.transpose(-1, -2) if ta else a, b.transpose(-1, -2) if tb else b)
        dy = r(*y.shape)
        y.backward(dy)
        save(name, "matmul", {"a": a, "b": b, "y": y, "dy": dy, "da": a.grad, "db": b.grad},
             transpose_a=ta, transpose_b=tb)


# ---------------------------------------------------------------- conv2d
@case
def conv2d():
    specs = [  # name, x NHWC, (KH, KW), F, stride, (top, bottom, left, right), dilation, groups, padding label
        ("conv2d_3x3_same", (2, 5, 5, 3), (3, 3), 4, 1, (1, 1, 1, 1), 1, 1, "same"),
        ("conv2d_stride2_valid", (2, 7, 7, 3), (3, 3), 4, 2, (0, 0, 0, 0), 1, 1, "valid"),
        # Keras SAME with stride 2 on an even size pads only bottom/right: PyTorch needs F.pad for it
        ("conv2d_stride2_same", (2, 6, 6, 3), (3, 3), 4, 2, (0, 1, 0, 1), 1, 1, "same"),
        ("conv2d_pad_asym", (1, 5, 6, 2), (3, 3), 3, 1, (1, 0, 2, 1), 1, 1, "explicit"),
        ("conv2d_dilation2", (1, 7, 7, 2), (3, 3), 3, 1, (2, 2, 2, 2), 2, 1, "same"),
        ("conv2d_groups2", (2, 6, 6, 4), (3, 3), 6, 1, (1, 1, 1, 1), 1, 2, "same"),
        ("conv2d_rect_kernel_valid", (2, 5, 6, 3), (2, 3), 2, 1, (0, 0, 0, 0), 1, 1, "valid"),
        ("conv2d_1x1", (2, 3, 3, 5), (1, 1), 4, 1, (0, 0, 0, 0), 1, 1, "valid"),
        # channels past one 16-lane vector (17 in, 20 out)
        ("conv2d_wide_channels", (1, 6, 6, 17), (3, 3), 20, 1, (1, 1, 1, 1), 1, 1, "same"),
    ]
    for i, (name, xs, (kh, kw), f, stride, (pt, pb, pl, pr), dil, groups, label) in enumerate(specs):
        r = gen(200 + i)
        x = r(*xs).requires_grad_()
        w = (r(kh, kw, xs[3] // groups, f) * 0.5).requires_grad_()
        xp = F.pad(nchw(x), (pl, pr, pt, pb))
        y = nhwc(F.conv2d(xp, w.permute(3, 2, 0, 1), stride=stride, dilation=dil, groups=groups))
        dy = r(*y.shape)
        y.backward(dy)
        save(name, "conv2d", {"x": x, "w": w, "y": y, "dy": dy, "dx": x.grad, "dw": w.grad},
             stride=stride, pad_top=pt, pad_bottom=pb, pad_left=pl, pad_right=pr, dilation=dil, groups=groups,
             padding=label)


# ---------------------------------------------------------------- pooling
@case
def pooling():
    specs = [  # name, kind, x NHWC, window, stride, symmetric pad
        ("pool_max_2x2", "max", (2, 6, 6, 3), 2, 2, 0),
        ("pool_max_2x2_odd", "max", (1, 5, 5, 2), 2, 2, 0),
        ("pool_max_3x3_s2_p1", "max", (2, 7, 7, 3), 3, 2, 1),
        ("pool_avg_2x2", "avg", (2, 6, 6, 3), 2, 2, 0),
        ("pool_avg_3x3_s1_p1", "avg", (2, 5, 5, 3), 3, 1, 1),
        # 35 channels: two 16-lane vectors and a tail per pixel
        ("pool_max_wide_channels", "max", (1, 6, 6, 35), 2, 2, 0),
        ("pool_avg_wide_channels", "avg", (1, 5, 5, 35), 3, 1, 1),
    ]
    for i, (name, kind, xs, k, s, p) in enumerate(specs):
        r = gen(300 + i)
        x = r(*xs).requires_grad_()  # continuous values: no ties inside a max window
        if kind == "max":
            y = F.max_pool2d(nchw(x), k, s, p)
        else:
            y = F.avg_pool2d(nchw(x), k, s, p, count_include_pad=False)
        y = nhwc(y)
        dy = r(*y.shape)
        y.backward(dy)
        save(name, "pool2d", {"x": x, "y": y, "dy": dy, "dx": x.grad},
             kind=kind, window=k, stride=s, pad_top=p, pad_bottom=p, pad_left=p, pad_right=p,
             padding=keras_padding_label(xs[1], xs[2], k, s, p), count_include_pad=False)


def keras_padding_label(h, w, k, s, p):
    """'valid', or 'same' when Keras SAME resolves to this symmetric pad, else 'explicit'."""
    if p == 0 and h >= k and w >= k:
        return "valid"
    for n in (h, w):
        total = max((-(-n // s) - 1) * s + k - n, 0)
        if (total // 2, total - total // 2) != (p, p):
            return "explicit"
    return "same"


# ---------------------------------------------------------------- batch norm
BN_NOTES = ("running = (1 - momentum) * running + momentum * batch (PyTorch convention; Keras momentum = 1 - this); "
            "running_var is updated with the unbiased batch variance (n / (n - 1)), normalisation uses the biased one")


@case
def batch_norm():
    eps, momentum = 1e-5, 0.1
    for i, (name, xs) in enumerate([("batchnorm_train_nc", (8, 5)), ("batchnorm_train_nhwc", (2, 3, 3, 4)),
                                   ("batchnorm_train_wide_channels", (2, 3, 3, 37))]):
        r = gen(400 + i)
        c = xs[-1]
        x = (r(*xs) * 2 + 0.5).requires_grad_()
        gamma = (1 + 0.3 * r(c)).requires_grad_()
        beta = (0.2 * r(c)).requires_grad_()
        rm0, rv0 = 0.1 * r(c), 1 + 0.2 * r(c).abs()
        rm, rv = rm0.clone(), rv0.clone()
        xt = x if len(xs) == 2 else nchw(x)
        y = F.batch_norm(xt, rm, rv, gamma, beta, training=True, momentum=momentum, eps=eps)
        y = y if len(xs) == 2 else nhwc(y)
        dy = r(*xs)
        y.backward(dy)
        flat = x.detach().reshape(-1, c)
        n = flat.shape[0]
        save(name, "batch_norm", {
            "x": x, "gamma": gamma, "beta": beta, "y": y, "dy": dy,
            "dx": x.grad, "dgamma": gamma.grad, "dbeta": beta.grad,
            "mean": flat.mean(0), "var": flat.var(0, unbiased=False),
            "running_mean_before": rm0, "running_var_before": rv0,
            "running_mean": rm, "running_var": rv,
        }, training=True, epsilon=eps, momentum=momentum, count=n, running_var="unbiased", notes=BN_NOTES)

    for i, (name, xs) in enumerate([("batchnorm_infer_nc", (6, 5)), ("batchnorm_infer_nhwc", (2, 3, 3, 4))]):
        r = gen(410 + i)
        c = xs[-1]
        x = (r(*xs) * 2 + 0.5).requires_grad_()
        gamma = (1 + 0.3 * r(c)).requires_grad_()
        beta = (0.2 * r(c)).requires_grad_()
        rm, rv = 0.3 * r(c), 1 + 0.5 * r(c).abs()
        xt = x if len(xs) == 2 else nchw(x)
        y = F.batch_norm(xt, rm, rv, gamma, beta, training=False, eps=eps)
        y = y if len(xs) == 2 else nhwc(y)
        dy = r(*xs)
        y.backward(dy)
        save(name, "batch_norm", {
            "x": x, "running_mean": rm, "running_var": rv, "gamma": gamma, "beta": beta, "y": y,
            "dy": dy, "dx": x.grad, "dgamma": gamma.grad, "dbeta": beta.grad,
        }, training=False, epsilon=eps)


# ---------------------------------------------------------------- losses
@case
def losses():
    r = gen(500)
    n, c = 6, 5
    logits = (2 * r(n, c)).requires_grad_()
    labels = torch.tensor([0, 3, 1, 4, 4, 2])
    onehot = F.one_hot(labels, c).to(torch.float64)
    loss = F.cross_entropy(logits, labels, reduction="none")
    loss_mean = loss.mean()
    loss_mean.backward()
    # soft labels (rows sum to 1) exercise the Σ labels term of the gradient
    soft = torch.softmax(r(n, c), dim=-1)
    z2 = logits.detach().clone().requires_grad_()
    soft_loss = -(soft * F.log_softmax(z2, -1)).sum(-1)
    soft_loss.mean().backward()
    save("softmax_cross_entropy", "softmax_cross_entropy", {
        "logits": logits, "labels": labels.to(torch.float64), "labels_onehot": onehot,
        "loss": loss, "loss_mean": loss_mean, "dlogits": logits.grad,
        "softmax": torch.softmax(logits.detach(), -1), "log_softmax": F.log_softmax(logits.detach(), -1),
        "labels_soft": soft, "loss_soft": soft_loss, "dlogits_soft": z2.grad,
    }, reduction="mean", labels="class indices stored as float", dlogits="gradient of the mean loss")

    r = gen(501)
    z = (2 * r(4, 3)).requires_grad_()
    t = torch.rand(4, 3, generator=torch.Generator().manual_seed(502))
    t[0] = torch.tensor([0.0, 1.0, 1.0])  # hard targets too
    t[1] = torch.tensor([1.0, 0.0, 0.0])
    per = F.binary_cross_entropy_with_logits(z, t, reduction="none")
    mean = per.mean()
    mean.backward()
    save("bce_logits", "bce_logits", {"logits": z, "targets": t, "loss": per, "loss_mean": mean, "dlogits": z.grad},
         reduction="mean", dlogits="gradient of the mean loss")

    p = torch.sigmoid(2 * r(4, 3)).detach().clamp(0.02, 0.98).requires_grad_()
    per = F.binary_cross_entropy(p, t, reduction="none")
    mean = per.mean()
    mean.backward()
    save("bce_probs", "bce_probs", {"probs": p, "targets": t, "loss": per, "loss_mean": mean, "dprobs": p.grad},
         reduction="mean", dprobs="gradient of the mean loss",
         notes="probabilities kept in [0.02, 0.98]: no clipping (Keras epsilon, PyTorch log clamp at -100) is involved")


# ---------------------------------------------------------------- optimizers
@case
def optimizers():
    specs = [  # name, factory, attributes, state keys to record per step
        ("optim_adam", lambda p: torch.optim.Adam([p], lr=1e-3, betas=(0.9, 0.999), eps=1e-8),
         dict(kind="adam", lr=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8, weight_decay=0.0, decoupled=False), ("m", "v")),
        ("optim_adam_l2", lambda p: torch.optim.Adam([p], lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01),
         dict(kind="adam", lr=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8, weight_decay=0.01, decoupled=False), ("m", "v")),
        ("optim_adamw", lambda p: torch.optim.AdamW([p], lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01),
         dict(kind="adamw", lr=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8, weight_decay=0.01, decoupled=True), ("m", "v")),
        ("optim_sgd_momentum", lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9),
         dict(kind="sgd", lr=0.1, momentum=0.9, nesterov=False, weight_decay=0.0, dampening=0.0), ("velocity",)),
        ("optim_sgd_nesterov", lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True),
         dict(kind="sgd", lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.0, dampening=0.0), ("velocity",)),
        # 185 values: the vector kernels' main loop, not only their tail (the cases above have 12)
        ("optim_adamw_wide", lambda p: torch.optim.AdamW([p], lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01),
         dict(kind="adamw", lr=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8, weight_decay=0.01, decoupled=True), ("m", "v")),
    ]
    shapes = {"optim_adamw_wide": (5, 37)}
    torch_state = {"m": "exp_avg", "v": "exp_avg_sq", "velocity": "momentum_buffer"}
    for i, (name, make, attrs, keys) in enumerate(specs):
        r = gen(600 + i)
        shape = shapes.get(name, (3, 4))
        p = torch.nn.Parameter(r(*shape))
        opt = make(p)
        tensors = {"param0": p.detach().clone()}
        for step in (1, 2, 3):
            g = r(*shape) * (0.5 if step == 2 else 1.0)
            p.grad = g.clone()
            opt.step()
            tensors["g%d" % step] = g
            tensors["param%d" % step] = p.detach().clone()
            for k in keys:
                tensors["%s%d" % (k, step)] = opt.state[p][torch_state[k]].clone()
        save(name, "optimizer", tensors, steps=3, **attrs)


# ---------------------------------------------------------------- RMSprop and gradient clipping
@case
def rmsprop_and_clipping():
    """torch.optim.RMSprop over 3 steps; the clip_* cases clip p.grad with torch.nn.utils before each
    step. The clip_norm case has a second parameter (tensors prefixed "q_") so the norm is global;
    step 2's gradients are scaled down so that its norm (about 0.5) is below the limit and left alone."""
    specs = [  # name, RMSprop kwargs, clip_norm, clip_value, with a second parameter
        ("optim_rmsprop", dict(lr=0.01, alpha=0.99, eps=1e-8, momentum=0.0, centered=False, weight_decay=0.0), 0.0, 0.0, False),
        ("optim_rmsprop_centered_momentum", dict(lr=0.01, alpha=0.9, eps=1e-7, momentum=0.9, centered=True, weight_decay=0.01), 0.0, 0.0, False),
        ("optim_rmsprop_clip_norm", dict(lr=0.01, alpha=0.99, eps=1e-8, momentum=0.5, centered=False, weight_decay=0.0), 1.0, 0.0, True),
        ("optim_rmsprop_clip_value", dict(lr=0.01, alpha=0.99, eps=1e-8, momentum=0.0, centered=False, weight_decay=0.0), 0.0, 0.5, False),
    ]
    for i, (name, kw, clip_norm, clip_value, two) in enumerate(specs):
        r = gen(700 + i)
        params = {"": torch.nn.Parameter(r(3, 4))}
        if two:
            params["q_"] = torch.nn.Parameter(r(3, 4))
        opt = torch.optim.RMSprop(list(params.values()), **kw)
        keys = ["square_avg"] + (["grad_avg"] if kw["centered"] else []) + (["momentum_buffer"] if kw["momentum"] > 0 else [])
        tensors = {}
        for prefix, p in params.items():
            tensors[prefix + "param0"] = p.detach().clone()
        for step in (1, 2, 3):
            for prefix, p in params.items():
                g = r(3, 4) * (0.1 if step == 2 and clip_norm > 0 else 1.0)
                p.grad = g.clone()
                tensors["%sg%d" % (prefix, step)] = g
            if clip_norm > 0:
                torch.nn.utils.clip_grad_norm_(list(params.values()), clip_norm)
            if clip_value > 0:
                torch.nn.utils.clip_grad_value_(list(params.values()), clip_value)
            opt.step()
            for prefix, p in params.items():
                tensors["%sparam%d" % (prefix, step)] = p.detach().clone()
                for k in keys:
                    tensors["%s%s%d" % (prefix, k, step)] = opt.state[p][k].clone()
        save(name, "optimizer", tensors, steps=3, kind="rmsprop", clip_norm=clip_norm, clip_value=clip_value,
             params=len(params), **kw)


def main():
    os.makedirs(OUT, exist_ok=True)
    for fn in CASES:
        fn()
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print("wrote %d files, %d bytes, to %s" % (len(os.listdir(OUT)), total, os.path.normpath(OUT)), file=sys.stderr)


if __name__ == "__main__":
    main()
