#!/usr/bin/env python3
"""Inputs for bench/compare_scan.sh (needs Debian's python3-torch): the shapes
of spec §7 — a zip checkpoint with 20,000 small tensors, a 1 GiB checkpoint,
the legacy stacked format with 50,000 tensors, a raw pickle of 1M small dicts."""
import os
import pickle
import sys

import torch

out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/ckpt-scan-bench"
os.makedirs(out, exist_ok=True)
p = lambda n: os.path.join(out, n)
if not os.path.exists(p("many.pt")):
    torch.save({f"layer.{i}.w": torch.zeros(4) for i in range(20000)}, p("many.pt"))
if not os.path.exists(p("big.pt")):
    torch.save({f"w{i}": torch.zeros(64 * 1024 * 1024) for i in range(4)}, p("big.pt"))
if not os.path.exists(p("legacy50k.pt")):
    torch.save({f"t{i}": torch.zeros(2) for i in range(50000)}, p("legacy50k.pt"),
               _use_new_zipfile_serialization=False)
if not os.path.exists(p("dicts.pkl")):
    with open(p("dicts.pkl"), "wb") as f:
        pickle.dump([{"a": i, "b": float(i), "c": "x"} for i in range(1000000)], f, protocol=4)
print(out)
