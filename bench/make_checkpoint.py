#!/usr/bin/env python3
"""Writes a large, realistic-looking .safetensors file for bench/run.sh.

    python3 bench/make_checkpoint.py OUT [--mib 1024] [--dtype BF16|F16|F32]

Plain Python 3 (no numpy, no ckpt): the header is built by hand and the data
is one 1 MiB block of weight-like values (normal, sigma 0.02, fixed seed)
repeated, so conversions see the value distribution of real checkpoints
(normal numbers around 1e-2, rare subnormals) rather than random bits.
Tensors are 16 MiB each (e.g. 4096 x 2048 BF16), named like a decoder's MLP
and attention projections, in the reference writer's order.
"""

import argparse
import json
import random
import struct
import sys

BLOCK = 1 << 20
TENSOR = 16 << 20
SIZES = {"BF16": 2, "F16": 2, "F32": 4}


def encode(values, dtype):
    if dtype == "F32":
        return struct.pack("<%df" % len(values), *values)
    if dtype == "F16":
        return struct.pack("<%de" % len(values), *values)
    raw = struct.pack("<%df" % len(values), *values)
    out = bytearray(len(values) * 2)
    for i in range(len(values)):  # round to nearest even, as torch does
        u = int.from_bytes(raw[4 * i:4 * i + 4], "little")
        u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
        out[2 * i:2 * i + 2] = u.to_bytes(2, "little")
    return bytes(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--mib", type=int, default=1024, help="data size in MiB (multiple of 16)")
    ap.add_argument("--dtype", default="BF16", choices=sorted(SIZES))
    a = ap.parse_args()
    size = SIZES[a.dtype]
    count = max(1, a.mib * (1 << 20) // TENSOR)
    cols = 2048 if size == 2 else 1024
    rows = TENSOR // size // cols
    kinds = ["mlp.down_proj", "mlp.gate_proj", "mlp.up_proj", "self_attn.o_proj"]
    names = sorted("model.layers.%d.%s.weight" % (i // len(kinds), kinds[i % len(kinds)]) for i in range(count))
    header = {"__metadata__": {"format": "pt"}}
    for i, name in enumerate(names):
        header[name] = {"dtype": a.dtype, "shape": [rows, cols], "data_offsets": [i * TENSOR, (i + 1) * TENSOR]}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((-(8 + len(text))) % 8)
    rng = random.Random(1234)
    block = encode([rng.gauss(0.0, 0.02) for _ in range(BLOCK // size)], a.dtype)
    with open(a.out, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for _ in range(count * (TENSOR // BLOCK)):
            f.write(block)
    print("%s: %d tensors of %s [%d, %d], %d MiB" % (a.out, count, a.dtype, rows, cols, count * TENSOR >> 20),
          file=sys.stderr)


if __name__ == "__main__":
    main()
