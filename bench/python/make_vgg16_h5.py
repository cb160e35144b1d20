#!/usr/bin/python3
"""Writes Keras-layout HDF5 weight files with seeded random weights, and the PyTorch fixture for them.

Three uses:

  make_vgg16_h5.py OUT.h5 [--size 64] [--seed 1234] [--full-model]
      A VGG16 without its top (block1_conv1 ... block5_pool), in the layout of Keras 2's
      model.save_weights (root attribute layer_names; one group per layer with attribute
      weight_names such as b"block1_conv1/kernel:0"; kernels HWIO, biases [F]). With --full-model
      the same groups sit under a top-level "model_weights" group, as model.save writes them.
      Needs only numpy and h5py (Debian: python3-numpy python3-h5py); tests run it at test time.

  make_vgg16_h5.py --tiny OUT.h5 [--seed 7] [--full-model] [--safetensors OUT.safetensors]
      A tiny model in the same layout (input 8x8x3 -> conv 3x3x3x4 -> pool -> flatten -> dense 2):
      a few KB, for reader tests and fuzzing. Layers: input_1, conv, pool, flatten, dense.
      --safetensors also writes the same weights as "conv/kernel", ... (an independent copy to check
      the HDF5 reader against). The committed test files engine/src/test/resources/h5/ come from:
        --tiny tiny_keras.h5 --safetensors tiny_keras.safetensors;  --tiny --full-model tiny_keras_full_model.h5

  make_vgg16_h5.py --torch-fixture [--size 64] [--seed 1234]
      Dev time only (Debian: python3-torch): the features of a fixed image through the same seeded
      weights, computed by PyTorch in float64 (NCHW, kernels HWIO -> OIHW), written NHWC as
      examples/src/test/resources/fixtures/vgg16_features_<size>.safetensors with the image.

Weights: kernels are N(0, 1) * sqrt(2 / fan_in) (He scale, so activations stay O(1) through 13 ReLU
convs), block1_conv1's divided by 64 more because its input is Keras's VGG16 preprocessing (BGR pixels
0-255 minus the channel means, standard deviation about 64) as with the real weights; biases
N(0, 1) * 0.05; drawn in layer order (kernel then bias) from numpy's legacy RandomState(seed), whose
stream numpy keeps stable across versions; values are float32. The fixture's image is preprocessed
the same way (VGG16.preprocess in Kiln).
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np

# (layer name, filters) per conv; a None filter count marks a 2x2 max pool.
VGG16_LAYERS = [
    ("block1_conv1", 64), ("block1_conv2", 64), ("block1_pool", None),
    ("block2_conv1", 128), ("block2_conv2", 128), ("block2_pool", None),
    ("block3_conv1", 256), ("block3_conv2", 256), ("block3_conv3", 256), ("block3_pool", None),
    ("block4_conv1", 512), ("block4_conv2", 512), ("block4_conv3", 512), ("block4_pool", None),
    ("block5_conv1", 512), ("block5_conv2", 512), ("block5_conv3", 512), ("block5_pool", None),
]


# the spread of Keras-preprocessed pixels, which block1_conv1 sees
INPUT_STD = 64.0
BGR_MEAN = np.array([103.939, 116.779, 123.68], dtype=np.float32)


def vgg16_weights(seed):
    """[(layer name, [(weight name, float32 array)])] in Keras order, input layer included."""
    rng = np.random.RandomState(seed)
    layers = [("input_1", [])]
    channels = 3
    for name, filters in VGG16_LAYERS:
        if filters is None:
            layers.append((name, []))
            continue
        scale = math.sqrt(2.0 / (3 * 3 * channels)) / (INPUT_STD if name == "block1_conv1" else 1.0)
        kernel = (rng.standard_normal((3, 3, channels, filters)) * scale).astype(np.float32)
        bias = (rng.standard_normal((filters,)) * 0.05).astype(np.float32)
        layers.append((name, [(name + "/kernel:0", kernel), (name + "/bias:0", bias)]))
        channels = filters
    return layers


def tiny_weights(seed):
    rng = np.random.RandomState(seed)
    conv_k = (rng.standard_normal((3, 3, 3, 4)) * 0.5).astype(np.float32)
    conv_b = (rng.standard_normal((4,)) * 0.1).astype(np.float32)
    dense_k = (rng.standard_normal((36, 2)) * 0.3).astype(np.float32)
    dense_b = (rng.standard_normal((2,)) * 0.1).astype(np.float32)
    return [("input_1", []),
            ("conv", [("conv/kernel:0", conv_k), ("conv/bias:0", conv_b)]),
            ("pool", []), ("flatten", []),
            ("dense", [("dense/kernel:0", dense_k), ("dense/bias:0", dense_b)])]


def write_keras_h5(path, layers, full_model):
    """Keras 2's save_weights_to_hdf5_group, line for line, into a temporary file moved into place."""
    import h5py
    tmp = path + ".tmp"
    with h5py.File(tmp, "w") as f:
        if full_model:
            f.attrs["keras_version"] = b"2.13.1"
            f.attrs["backend"] = b"tensorflow"
            f.attrs["model_config"] = json.dumps({"class_name": "Functional", "config": {"name": "vgg16"}}).encode("utf8")
            g = f.create_group("model_weights")
        else:
            g = f
        g.attrs["layer_names"] = [name.encode("utf8") for name, _ in layers]
        g.attrs["backend"] = b"tensorflow"
        g.attrs["keras_version"] = b"2.13.1"
        for name, weights in layers:
            lg = g.create_group(name)
            # Keras writes np.asarray(list) here: float64 and empty for a weightless layer
            lg.attrs["weight_names"] = np.asarray([w.encode("utf8") for w, _ in weights]) if weights else np.asarray([])
            for wname, value in weights:
                ds = lg.create_dataset(wname, value.shape, dtype=value.dtype)
                ds[()] = value
    os.replace(tmp, path)


def fixed_image(size):
    """A smooth deterministic RGB image in [0, 1], HWC float32, then Keras's VGG16 preprocessing
    (x 255, RGB -> BGR, minus the channel means) in float32, as Kiln's VGG16.preprocess(x, true)."""
    h = np.arange(size, dtype=np.float64)[:, None, None]
    w = np.arange(size, dtype=np.float64)[None, :, None]
    c = np.arange(3, dtype=np.float64)[None, None, :]
    rgb = (0.5 + 0.5 * np.sin(0.31 * h + 0.17 * w * (c + 1) + 1.3 * c) * np.cos(0.05 * h * w / size)).astype(np.float32)
    return (rgb[:, :, ::-1] * np.float32(255) - BGR_MEAN).astype(np.float32)


def write_safetensors(path, tensors, metadata):
    """The format by hand: u64 LE header length, JSON header padded to 8 bytes, F32 LE data."""
    header = {"__metadata__": {k: str(v) for k, v in metadata.items()}}
    blobs, offset = [], 0
    for name, a in tensors.items():
        data = np.ascontiguousarray(a, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
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


def torch_fixture(size, seed):
    import torch
    import torch.nn.functional as F
    layers = dict(vgg16_weights(seed))
    image = fixed_image(size)
    x = torch.from_numpy(image.astype(np.float64)).permute(2, 0, 1).unsqueeze(0)  # NCHW
    total = 0.0
    for name, filters in VGG16_LAYERS:
        if filters is None:
            x = F.max_pool2d(x, 2, 2)
            continue
        (_, k), (_, b) = layers[name]
        total += float(np.sum(k, dtype=np.float64)) + float(np.sum(b, dtype=np.float64))
        w = torch.from_numpy(k.astype(np.float64)).permute(3, 2, 0, 1)  # HWIO -> OIHW
        x = F.relu(F.conv2d(x, w, torch.from_numpy(b.astype(np.float64)), padding=1))
    features = x.permute(0, 2, 3, 1).numpy()  # NHWC
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "src", "test",
                       "resources", "fixtures", "vgg16_features_%d.safetensors" % size)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    write_safetensors(out, {"image": image[None], "features": features},
                      {"seed": seed, "size": size, "weights_sum": repr(total), "torch_version": torch.__version__,
                       "numpy_version": np.__version__, "generator": "bench/python/make_vgg16_h5.py --torch-fixture"})
    print("wrote %s: features %s, max %.4g, mean %.4g" % (out, features.shape, features.max(), features.mean()))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", nargs="?", help="the .h5 file to write")
    p.add_argument("--size", type=int, default=64, help="input height and width (>= 32) for --torch-fixture")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--full-model", action="store_true", help="nest the weights under model_weights, as model.save does")
    p.add_argument("--tiny", action="store_true", help="the tiny conv+dense model instead of VGG16")
    p.add_argument("--safetensors", help="with --tiny: also write the weights to this safetensors file")
    p.add_argument("--torch-fixture", action="store_true", help="write the PyTorch features fixture (needs torch)")
    a = p.parse_args()
    if a.torch_fixture:
        torch_fixture(a.size, 1234 if a.seed is None else a.seed)
        return
    if not a.out:
        p.error("name the .h5 file to write")
    if a.tiny:
        layers = tiny_weights(7 if a.seed is None else a.seed)
        if a.safetensors:
            write_safetensors(a.safetensors, {w.split(":")[0]: v for _, ws in layers for w, v in ws},
                              {"generator": "bench/python/make_vgg16_h5.py --tiny"})
    else:
        layers = vgg16_weights(1234 if a.seed is None else a.seed)
    write_keras_h5(a.out, layers, a.full_model)


if __name__ == "__main__":
    sys.exit(main())
