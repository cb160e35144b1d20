#!/usr/bin/env python3
"""Writes small ONNX models with torch.onnx.export, and for each one an input batch and PyTorch's output on it,
for Kiln's ONNX import tests (examples/src/test/java/dev/kiln/onnx/OnnxImportTest.java).

usage: make_onnx_models.py OUT_DIR [--seed N] [--only NAME]

For each model NAME in OUT_DIR: NAME.onnx, NAME.x.bin (the input, float32 little-endian, row-major),
NAME.y.bin (PyTorch's output in eval mode, same encoding) and NAME.shape.txt (input dims, then output dims,
one line each). The batch axis is exported as dynamic ('batch'). Needs Debian's python3-torch and python3-onnx.
"""
import argparse
import os

import torch
import torch.nn as nn


class Mlp(nn.Module):
    """M1's shape, narrower: 11 -> 32 ReLU -> 16 Tanh -> 8 Sigmoid -> 1 (Gemm, Relu, Tanh, Sigmoid)."""
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(11, 32), nn.ReLU(), nn.Linear(32, 16), nn.Tanh(), nn.Linear(16, 8), nn.Sigmoid(), nn.Linear(8, 1))

    def forward(self, x):
        return self.net(x)


class M3(nn.Module):
    """M3 (DESIGN.md): 28x28x1 -> conv blocks (32; 64x2; 128x3; 3x3 same, ReLU, maxpool 2) -> Dense 64 ReLU, Dropout .2, Dense 10, softmax."""
    def __init__(self):
        super().__init__()
        layers, c = [], 1
        for width, convs in ((32, 1), (64, 2), (128, 3)):
            for _ in range(convs):
                layers += [nn.Conv2d(c, width, 3, padding=1), nn.ReLU()]
                c = width
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(128 * 3 * 3, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 10), nn.Softmax(dim=1))

    def forward(self, x):
        return self.head(self.features(x))


class BnNet(nn.Module):
    """Batch norm with moving statistics, a residual Add, a scalar Mul, Concat on channels, AveragePool,
    a strided conv with asymmetric input size, GlobalAveragePool, Reshape and MatMul."""
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(8)
        self.a = nn.Conv2d(8, 4, 1)
        self.b = nn.Conv2d(8, 4, 1)
        self.down = nn.Conv2d(8, 6, 3, stride=2, padding=1)
        self.fc = nn.Linear(6 * 3 * 4, 5, bias=False)
        self.bias = nn.Parameter(torch.randn(5))
        for m in (self.bn, self.bn2):   # moving statistics away from 0 and 1, so that using them shows
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)

    def forward(self, x):
        y = torch.relu(self.bn(self.conv(x)))
        y = y + self.bn2(self.conv2(y)) * 0.5
        y = nn.functional.avg_pool2d(y, 2, count_include_pad=False)
        y = torch.cat([torch.tanh(self.a(y)), torch.sigmoid(self.b(y))], dim=1)
        y = self.down(y)
        g = nn.functional.adaptive_avg_pool2d(y, 1)        # GlobalAveragePool: [N, 6, 1, 1]
        y = y * g                                          # broadcast over H, W
        y = y.reshape(-1, 6 * 3 * 4)
        return torch.softmax(y @ self.fc.weight.t() + self.bias, dim=-1)


MODELS = {"mlp": (Mlp, (11,)), "m3": (M3, (1, 28, 28)), "bn": (BnNet, (3, 12, 14))}


def write(out, name, seed, batch):
    torch.manual_seed(seed)
    cls, shape = MODELS[name]
    model = cls().eval()
    x = torch.randn(batch, *shape)
    with torch.no_grad():
        y = model(x)
    path = os.path.join(out, name + ".onnx")
    torch.onnx.export(model, (x,), path, input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, opset_version=13,
                      training=torch.onnx.TrainingMode.PRESERVE)   # eval mode, but batch norm not folded into the convs
    x.numpy().astype("<f4").tofile(os.path.join(out, name + ".x.bin"))
    y.numpy().astype("<f4").tofile(os.path.join(out, name + ".y.bin"))
    with open(os.path.join(out, name + ".shape.txt"), "w") as f:
        f.write(" ".join(map(str, x.shape)) + "\n" + " ".join(map(str, y.shape)) + "\n")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--batch", type=int, default=5)
    p.add_argument("--only")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for name in MODELS:
        if a.only is None or a.only == name:
            write(a.out, name, a.seed, a.batch)


if __name__ == "__main__":
    main()
