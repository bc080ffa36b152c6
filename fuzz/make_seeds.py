#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (plain Python 3, no numpy).

    python3 fuzz/make_seeds.py            # rewrites fuzz/corpus/<target>/
    python3 fuzz/make_seeds.py gguf_open_fuzzer gguf_split_fuzzer   # only these

Every file is built byte by byte here, so the seeds do not depend on ckpt's
own writer. The outputs are committed; rerun after changing this script.

corpus/safetensors_open_fuzzer/   whole .safetensors files: valid ones (several
                                  dtypes, zero tensors, metadata, scalars,
                                  F4/F6, escapes), files the default mode
                                  accepts but strict mode rejects, and broken
                                  variants of each structural rule.
corpus/safetensors_index_fuzzer/  model.safetensors.index.json texts against
                                  the two shards safetensors_index_fuzzer.cc
                                  creates (names below must match it).
corpus/gguf_open_fuzzer/          whole .gguf files: valid ones (v1-v3, both
                                  byte orders, every value type, nested arrays,
                                  block types, alignments), files only default
                                  mode accepts (strict / reference_compatible
                                  hazards), broken variants of each rule, plus
                                  copies of tests/data/gguf/golden/*.gguf and
                                  tests/data/gguf/corpus/* (files up to 64 KiB).
corpus/gguf_split_fuzzer/         concatenated split sets (the fuzzer cuts its
                                  input before each later "GGUF"), plus the sets
                                  of up to 3 files in tests/data/gguf/split/.
corpus/zip_fuzzer/                zip archives: stored and deflated entries, the
                                  torch.save layout (flags 0x0808, 'FB' padding,
                                  data descriptors, ZIP64 end records), ZIP64
                                  extras, one written by zipfile with
                                  force_zip64, each differential (duplicate and
                                  mismatched names, flags, CRC, overlap, gaps,
                                  comment tricks) and broken variants.
corpus/pickle_fuzzer/             pickles: pickle.dumps of plain data (protocols
                                  0-5), a torch-like state dict, protocol-5
                                  buffers, and hand-made streams for each
                                  decoder hazard (frames, memo, dynamic names).
"""

import json
import math
import os
import re
import shutil
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))

# Safetensors dtype name -> (elements per block, bytes per block), as ckpt's dtype.cc.
DTYPES = {
    "BOOL": (1, 1), "F4": (2, 1), "F6_E2M3": (4, 3), "F6_E3M2": (4, 3),
    "U8": (1, 1), "I8": (1, 1), "F8_E5M2": (1, 1), "F8_E4M3": (1, 1),
    "F8_E8M0": (1, 1), "F8_E4M3FNUZ": (1, 1), "F8_E5M2FNUZ": (1, 1),
    "I16": (1, 2), "U16": (1, 2), "F16": (1, 2), "BF16": (1, 2),
    "I32": (1, 4), "U32": (1, 4), "F32": (1, 4), "C64": (1, 8),
    "F64": (1, 8), "I64": (1, 8), "U64": (1, 8),
}


def nbytes(dtype, shape):
    n = math.prod(shape)
    per, size = DTYPES[dtype]
    assert n % per == 0, (dtype, shape)
    return n // per * size


def f32(values):
    return b"".join(struct.pack("<f", v) for v in values)


def bf16(values):
    return b"".join(struct.pack("<f", v)[2:] for v in values)


def f16(values):
    return b"".join(struct.pack("<e", v) for v in values)


def pattern(n, seed=0):
    return bytes((0x3C + 7 * k + 13 * seed) & 0xFF for k in range(n))


def raw_file(header, data=b"", length=None, pad=False):
    """8-byte little-endian length, header text (str or bytes), data; with
    `pad`, the header gets trailing spaces so the data starts at a multiple
    of 8 (so a seed meant to trip one strict rule trips only that one)."""
    h = header.encode("utf-8") if isinstance(header, str) else header
    if pad:
        h += b" " * ((-(8 + len(h))) % 8)
    n = len(h) if length is None else length
    return struct.pack("<Q", n) + h + data


def st_file(tensors, metadata=None, align=8, order=None):
    """A valid file: tensors = [(name, dtype, shape, bytes or None)], packed in
    the order given; header compact JSON padded with spaces to `align`."""
    entries = {}
    if metadata is not None:
        entries["__metadata__"] = metadata
    data = b""
    for i, (name, dtype, shape, payload) in enumerate(tensors):
        size = nbytes(dtype, shape)
        if payload is None:
            payload = pattern(size, i)
        assert len(payload) == size, (name, len(payload), size)
        entries[name] = {"dtype": dtype, "shape": list(shape),
                         "data_offsets": [len(data), len(data) + size]}
        data += payload
    header = json.dumps(entries, separators=(",", ":"), ensure_ascii=False)
    if align:
        header += " " * ((-(8 + len(header.encode("utf-8")))) % align)
    return raw_file(header, data)


# ---- safetensors_open_fuzzer -------------------------------------------------

def open_seeds():
    s = {}
    w = [0.5, -1.25, 3.0, 1e-3]
    s["valid_f32_2x2"] = st_file([("model.layers.0.self_attn.q_proj.weight", "F32", [2, 2], f32(w))])
    s["valid_bf16_f16_metadata"] = st_file(
        [("model.embed_tokens.weight", "BF16", [2, 2], bf16(w)),
         ("lm_head.weight", "F16", [1, 4], f16(w))],
        metadata={"format": "pt", "note": "seed"})
    s["valid_zero_tensors"] = raw_file("{}      ")
    s["strict_unpadded_zero_tensors"] = raw_file("{}")
    s["valid_metadata_only"] = st_file([], metadata={"format": "pt"})
    s["valid_metadata_null"] = raw_file('{"__metadata__":null}   ')
    s["valid_metadata_empty"] = raw_file('{"__metadata__":{}}     ')
    s["valid_scalar"] = st_file([("step", "I64", [], struct.pack("<q", 1234)),
                                 ("loss", "F32", [], f32([0.25]))])
    s["valid_empty_tensor"] = st_file([("empty", "F32", [0, 4], b""), ("one", "U8", [1], b"\x07")])
    s["valid_f4_f6"] = st_file([("f4", "F4", [2, 3], None), ("f6a", "F6_E2M3", [4], None),
                                ("f6b", "F6_E3M2", [2, 4], None)])
    s["valid_f8"] = st_file([(d.lower(), d, [4], None) for d in
                             ("F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ")])
    s["valid_ints_bool"] = st_file([(d.lower(), d, [3], None) for d in
                                    ("BOOL", "U8", "I8", "I16", "U16", "I32", "U32", "I64", "U64")])
    s["valid_every_dtype"] = st_file([("t_" + d, d, [2, 4], None) for d in DTYPES])
    s["valid_reverse_order"] = st_file([("z.weight", "F32", [2], None), ("a.weight", "F16", [2], None),
                                        ("m.bias", "BF16", [1], None)])
    s["valid_escaped_names"] = st_file([("caf\u00e9.w\"q\\", "F32", [1], None),
                                        ("emoji\U0001F600/tab\t", "U8", [2], None)],
                                       metadata={"k\u00e9y": "v\nal"})
    s["valid_align_64"] = st_file([("w", "F32", [3], None)], align=64)
    s["valid_whitespace"] = raw_file(' \n{ "w" : { "data_offsets" : [ 0 , 4 ] , "shape" : [ 1 ] ,'
                                     ' "dtype" : "F32" } }\t\r\n', f32([1.0]), pad=True)
    s["valid_unicode_escape_name"] = raw_file(
        '{"\\u00e9\\ud83d\\ude00\\/":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', b"\x01")

    # Accepted by default, rejected by strict mode.
    one = '{"dtype":"F32","shape":[1],"data_offsets":[0,4]}'
    s["strict_duplicate_name"] = raw_file('{"w":' + one + ',"w":' + one + '}', f32([2.0]), pad=True)
    s["strict_duplicate_metadata_key"] = raw_file(
        '{"__metadata__":{"format":"pt","format":"np"},"w":' + one + '}', f32([2.0]), pad=True)
    s["strict_nul_in_name"] = raw_file('{"a\\u0000b":' + one + '}  ', f32([2.0]), pad=True)
    s["strict_nul_in_metadata_key"] = raw_file('{"__metadata__":{"k\\u0000":"v"}}', b"", pad=True)
    s["strict_unknown_field"] = raw_file(
        '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":{"a":[1,2,{"b":null}]}}}', f32([2.0]), pad=True)
    s["strict_entry_array"] = raw_file('{"w":["F32",[1],[0,4]]}', f32([2.0]), pad=True)
    s["strict_dtype_map"] = raw_file('{"w":{"dtype":{"F32":null},"shape":[1],"data_offsets":[0,4]}}',
                                     f32([2.0]), pad=True)
    s["strict_misaligned_data"] = raw_file('{"w":' + one + '}', f32([2.0]))
    s["warn_misaligned_tensor"] = raw_file(
        '{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"F32","shape":[1],'
        '"data_offsets":[1,5]}}', b"\x01" + f32([2.0]), pad=True)

    # Broken: one rule each.
    good = st_file([("w", "F32", [2, 2], f32(w))])
    s["bad_truncated_data"] = good[:-3]
    s["bad_trailing_bytes"] = good + b"\0\0\0\0"
    s["bad_too_small"] = b"\x10\0\0\0"
    s["bad_empty"] = b""
    s["bad_header_past_eof"] = raw_file("{}", length=4096)
    s["bad_header_too_large"] = struct.pack("<Q", 100_000_001) + b"{}"
    s["bad_header_length_huge"] = struct.pack("<Q", 2**64 - 1) + b"{}"
    s["bad_utf8"] = raw_file(b'{"w\xff":' + one.encode() + b'}', f32([1.0]))
    s["bad_utf8_overlong"] = raw_file(b'{"\xc0\xaf":' + one.encode() + b'}', f32([1.0]))
    s["bad_json_syntax"] = raw_file('{"w":{"dtype":"F32",}}')
    s["bad_json_trailing"] = raw_file('{} {}')
    s["bad_header_not_object"] = raw_file('[]')
    s["bad_key_not_string"] = raw_file('{1:2}')
    s["bad_lone_surrogate"] = raw_file('{"\\ud800":' + one + '}', f32([1.0]))
    s["bad_raw_control_char"] = raw_file('{"a\x01":' + one + '}', f32([1.0]))
    s["bad_invalid_escape"] = raw_file('{"a\\x":' + one + '}', f32([1.0]))
    s["bad_overlap"] = raw_file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
                                '"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}', pattern(6))
    s["bad_hole"] = raw_file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
                             '"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}', pattern(12))
    s["bad_not_from_zero"] = raw_file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', pattern(8))
    s["bad_end_before_begin"] = raw_file('{"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},'
                                         '"b":{"dtype":"U8","shape":[1],"data_offsets":[1,0]}}', b"\0")
    s["bad_size_mismatch"] = raw_file('{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,8]}}', pattern(8))
    s["bad_shape_overflow"] = raw_file(
        '{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}')
    s["bad_shape_bits_overflow"] = raw_file(
        '{"a":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}}')
    s["bad_f4_odd_count"] = raw_file('{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}', b"\0\0")
    s["bad_f6_partial_block"] = raw_file('{"a":{"dtype":"F6_E2M3","shape":[2],"data_offsets":[0,2]}}', b"\0\0")
    s["bad_unknown_dtype"] = raw_file('{"a":{"dtype":"F12","shape":[1],"data_offsets":[0,2]}}', b"\0\0")
    s["bad_dtype_lowercase"] = raw_file('{"a":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}', pattern(4))
    s["bad_dtype_number"] = raw_file('{"a":{"dtype":17,"shape":[1],"data_offsets":[0,4]}}', pattern(4))
    s["bad_missing_field"] = raw_file('{"a":{"dtype":"F32","shape":[1]}}', pattern(4))
    s["bad_duplicate_field"] = raw_file('{"a":{"dtype":"F32","dtype":"F32","shape":[1],'
                                        '"data_offsets":[0,4]}}', pattern(4))
    s["bad_offsets_three"] = raw_file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}', pattern(4))
    s["bad_offset_negative"] = raw_file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[-0,4]}}', pattern(4))
    s["bad_offset_float"] = raw_file('{"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}', pattern(4))
    s["bad_number_out_of_range"] = raw_file('{"a":{"dtype":"F32","shape":[1e400],"data_offsets":[0,4]}}',
                                            pattern(4))
    s["bad_u64_overflow"] = raw_file('{"a":{"dtype":"U8","shape":[18446744073709551616],'
                                     '"data_offsets":[0,1]}}', b"\0")
    s["bad_shape_bits_overflow_u8"] = raw_file(
        '{"a":{"dtype":"U8","shape":[18446744073709551615],"data_offsets":[0,18446744073709551615]}}')
    # Nine tensors whose sizes add up to 2^64 - 1 (each small enough for its
    # bit count to fit 64 bits): 8 + N + data_len overflows.
    big = 2**61 - 1
    ends = [big * (k + 1) for k in range(8)] + [2**64 - 1]
    wrap = ",".join('"t%d":{"dtype":"U8","shape":[%d],"data_offsets":[%d,%d]}'
                    % (k, e - b, b, e) for k, (b, e) in enumerate(zip([0] + ends[:-1], ends)))
    s["bad_data_len_overflows"] = raw_file("{" + wrap + "}", pad=True)
    s["bad_metadata_not_string"] = raw_file('{"__metadata__":{"format":1}}')
    s["bad_metadata_array"] = raw_file('{"__metadata__":["pt"]}')
    s["bad_metadata_twice"] = raw_file('{"__metadata__":{},"__metadata__":{}}')
    s["bad_entry_number"] = raw_file('{"a":5}')
    s["bad_entry_array_short"] = raw_file('{"a":["F32",[1]]}', pattern(4))
    s["bad_dtype_map_two"] = raw_file('{"a":{"dtype":{"F32":null,"F16":null},"shape":[1],'
                                      '"data_offsets":[0,4]}}', pattern(4))
    s["bad_deep_nesting"] = raw_file('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":'
                                     + "[" * 200 + "]" * 200 + '}}', b"\0")
    s["bad_eof_in_string"] = raw_file('{"abc')
    return s


# ---- safetensors_index_fuzzer -------------------------------------------------

SHARD1 = "model-00001-of-00002.safetensors"
SHARD2 = "model-00002-of-00002.safetensors"
# Tensors of the shards the fuzzer writes (safetensors_index_fuzzer.cc).
WEIGHTS = {
    "model.embed_tokens.weight": SHARD1,          # F32 [2,2]
    "model.layers.0.self_attn.q_proj.weight": SHARD1,  # BF16 [2,2]
    "model.layers.0.mlp.down_proj.weight": SHARD2,     # F16 [2,2]
    "lm_head.weight": SHARD2,                      # F32 [2]
}
TOTAL = 16 + 8 + 8 + 8


def index(weight_map, metadata=None, **extra):
    doc = {}
    if metadata is not None:
        doc["metadata"] = metadata
    doc["weight_map"] = weight_map
    doc.update(extra)
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()


def index_seeds():
    s = {}
    s["valid"] = index(WEIGHTS, {"total_size": TOTAL})
    s["valid_no_metadata"] = index(WEIGHTS)
    s["valid_metadata_null"] = json.dumps({"metadata": None, "weight_map": WEIGHTS}).encode()
    s["valid_compact"] = json.dumps({"metadata": {"total_size": TOTAL, "format": "pt"},
                                     "weight_map": WEIGHTS}, separators=(",", ":")).encode()
    s["valid_total_size_wrong"] = index(WEIGHTS, {"total_size": 12345})
    s["valid_empty_weight_map"] = index({})
    # Lists only shard 1: shard 2's tensors are then simply not part of it.
    s["valid_one_shard"] = index({k: v for k, v in WEIGHTS.items() if v == SHARD1})
    s["bad_missing_shard"] = index(dict(WEIGHTS, **{"lm_head.weight": "model-00003-of-00003.safetensors"}))
    s["bad_dotdot_path"] = index(dict(WEIGHTS, **{"lm_head.weight": "../" + SHARD2}))
    s["bad_dotdot_inner"] = index(dict(WEIGHTS, **{"lm_head.weight": "sub/../../" + SHARD2}))
    s["bad_absolute_path"] = index(dict(WEIGHTS, **{"lm_head.weight": "/etc/passwd"}))
    s["bad_backslash_path"] = index(dict(WEIGHTS, **{"lm_head.weight": "..\\" + SHARD2}))
    s["bad_drive_letter"] = index(dict(WEIGHTS, **{"lm_head.weight": "C:" + SHARD2}))
    s["bad_dot_slash_alias"] = index(dict(WEIGHTS, **{"lm_head.weight": "./" + SHARD2}))
    s["bad_shard_is_dir"] = index(dict(WEIGHTS, **{"lm_head.weight": "."}))
    s["bad_shard_is_index"] = index(dict(WEIGHTS, **{"lm_head.weight": "model.safetensors.index.json"}))
    s["bad_empty_path"] = index(dict(WEIGHTS, **{"lm_head.weight": ""}))
    s["bad_wrong_shard"] = index(dict(WEIGHTS, **{"lm_head.weight": SHARD1}))
    s["bad_missing_tensor"] = index(dict(WEIGHTS, **{"model.norm.weight": SHARD2}))
    s["bad_unlisted_tensor"] = index({k: v for k, v in WEIGHTS.items() if k != "lm_head.weight"})
    # nlohmann keeps one of two equal keys; the text still has both.
    body = ",\n".join('    "%s": "%s"' % kv for kv in WEIGHTS.items())
    s["bad_duplicate_tensor"] = ('{\n  "weight_map": {\n' + body +
                                 ',\n    "lm_head.weight": "%s"\n  }\n}\n' % SHARD1).encode()
    s["valid_duplicate_weight_map_last_wins"] = ('{"weight_map": {}, "weight_map": {' +
                                     ", ".join('"%s": "%s"' % kv for kv in WEIGHTS.items()) + "}}").encode()
    s["bad_value_not_string"] = index(dict(WEIGHTS, **{"lm_head.weight": 2}))
    s["bad_weight_map_array"] = index([SHARD1, SHARD2])
    s["bad_no_weight_map"] = json.dumps({"metadata": {"total_size": TOTAL}}).encode()
    s["bad_total_size_negative"] = index(WEIGHTS, {"total_size": -1})
    s["bad_total_size_float"] = index(WEIGHTS, {"total_size": 1.5})
    s["bad_total_size_string"] = index(WEIGHTS, {"total_size": "40"})
    s["bad_metadata_array"] = index(WEIGHTS, [1])
    s["bad_not_object"] = b"[]\n"
    s["bad_json_syntax"] = b'{"weight_map": {"a": "b",}}'
    s["bad_json_truncated"] = index(WEIGHTS)[:50]
    s["bad_utf8"] = b'{"weight_map": {"\xff": "' + SHARD1.encode() + b'"}}'
    s["bad_nul_in_path"] = index(dict(WEIGHTS, **{"lm_head.weight": SHARD2 + "\0.txt"}))
    s["bad_empty_file"] = b""
    s["bad_path_not_safetensors"] = index(dict(WEIGHTS, **{"lm_head.weight": "pytorch_model.bin"}))
    s["bad_bom"] = b"\xef\xbb\xbf" + index(WEIGHTS)
    s["bad_deep_nesting"] = index(WEIGHTS)[:-2] + b',\n  "x": ' + b"[" * 200 + b"]" * 200 + b"}\n"
    s["bad_trailing_garbage"] = index(WEIGHTS) + b"{}"
    # The same tensor twice for the same shard is harmless; for two shards it is not.
    s["valid_duplicate_same_shard"] = ('{"weight_map": {' + ", ".join('"%s": "%s"' % kv for kv in WEIGHTS.items()) +
                                       ', "lm_head.weight": "%s"}}' % SHARD2).encode()
    s["valid_escaped_keys"] = ('{"weight\\u005fmap": {' +
                               ", ".join('"%s": "%s"' % (k.replace(".", "\\u002e"), v) for k, v in WEIGHTS.items()) +
                               '}, "metadata": {"total_size": 40, "other": [1, {"a": null}]}}').encode()
    return s


# ---- GGUF (gguf_open_fuzzer, gguf_split_fuzzer) ------------------------------

REPO = os.path.dirname(HERE)
GGUF_GOLDEN = os.path.join(REPO, "tests", "data", "gguf", "golden")
GGUF_CORPUS = os.path.join(REPO, "tests", "data", "gguf", "corpus")
GGUF_SPLIT = os.path.join(REPO, "tests", "data", "gguf", "split")

# Value type ids.
U8, I8, U16, I16, U32, I32, F32T, BOOL, STR, ARR, U64, I64, F64 = range(13)
SCALAR_FMT = {U8: "B", I8: "b", U16: "H", I16: "h", U32: "I", I32: "i", F32T: "f",
              BOOL: "B", U64: "Q", I64: "q", F64: "d"}
# ggml type id -> (elements per block, bytes per block), for the types used here.
GGML = {0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 8: (32, 34), 12: (256, 144),
        14: (256, 210), 24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8), 30: (1, 2)}


class G:
    """A GGUF byte builder: version 1-3, either byte order."""

    def __init__(self, version=3, be=False):
        self.version, self.e = version, ">" if be else "<"

    def n(self, fmt, v):
        return struct.pack(self.e + fmt, v)

    def count(self, v):
        return self.n("I" if self.version == 1 else "Q", v)

    def s(self, text):
        b = text.encode("utf-8") if isinstance(text, str) else text
        return self.count(len(b)) + b

    def body(self, t, v):
        if t == STR:
            return self.s(v)
        if t == ARR:
            et, items = v
            return self.n("I", et) + self.count(len(items)) + b"".join(self.body(et, x) for x in items)
        return self.n(SCALAR_FMT[t], v)

    def kv(self, key, t, v):
        return self.s(key) + self.n("I", t) + self.body(t, v)


def gguf(kvs=(), tensors=(), version=3, be=False, align=32, pad_end=True, tail=b"",
         n_kv=None, n_tensors=None, magic=b"GGUF"):
    """kvs: (key, type, value); tensors: (name, ggml type, ne, data or None
    [, overrides]) where overrides may set the stored "type" id, "ne" (raw
    u64 dims) or "offset" of the tensor info, keeping the data as computed."""
    g = G(version, be)
    out = magic + g.n("I", version)
    out += g.count(len(tensors) if n_tensors is None else n_tensors)
    out += g.count(len(kvs) if n_kv is None else n_kv)
    out += b"".join(g.kv(*kv) for kv in kvs)
    blobs, off = [], 0
    for name, t, ne, data, *rest in tensors:
        o = rest[0] if rest else {}
        per, size = GGML[t]
        nb = math.prod(ne) // per * size
        if data is None:
            data = pattern(nb, len(blobs))
        raw_ne = o.get("ne", ne)
        out += (g.s(name) + g.n("I", len(raw_ne)) + b"".join(g.count(d) for d in raw_ne) +
                g.n("I", o.get("type", t)) + g.n("Q", o.get("offset", off)))
        blobs.append(data)
        off += len(data) + (-len(data)) % align
    if tensors:
        out += b"\0" * ((-len(out)) % align)
        for i, b in enumerate(blobs):
            out += b
            if pad_end or i + 1 < len(blobs):
                out += b"\0" * ((-len(b)) % align)
    return out + tail


def f32le(values):
    return b"".join(struct.pack("<f", v) for v in values)


LLAMA = [("general.architecture", STR, "llama"), ("general.name", STR, "seed"),
         ("llama.context_length", U32, 2048), ("llama.embedding_length", U32, 8),
         ("llama.block_count", U32, 1), ("llama.attention.head_count", U32, 2),
         ("llama.attention.layer_norm_rms_epsilon", F32T, 1e-5), ("llama.rope.freq_base", F32T, 10000.0)]
VOCAB = ["<unk>", "<s>", "</s>", "a", "b", "\u0120ab", "\u00e9t\u00e9", "\U0001F600"]
TOKENIZER = [("tokenizer.ggml.model", STR, "gpt2"),
             ("tokenizer.ggml.tokens", ARR, (STR, VOCAB)),
             ("tokenizer.ggml.scores", ARR, (F32T, [-float(i) for i in range(len(VOCAB))])),
             ("tokenizer.ggml.token_type", ARR, (I32, [2, 3, 3, 1, 1, 1, 1, 1])),
             ("tokenizer.ggml.merges", ARR, (STR, ["a b", "\u0120 ab"])),
             ("tokenizer.ggml.bos_token_id", U32, 1), ("tokenizer.ggml.eos_token_id", U32, 2),
             ("tokenizer.ggml.add_bos_token", BOOL, 1)]
TENSORS = [("token_embd.weight", 0, [8, 8], None), ("blk.0.attn_q.weight", 1, [8, 8], None),
           ("blk.0.ffn_up.weight", 8, [32, 2], None), ("blk.0.ffn_down.weight", 12, [256], None),
           ("output_norm.weight", 0, [8], f32le([1.0] * 8))]
EVERY_TYPE = [("t.u8", U8, 200), ("t.i8", I8, -5), ("t.u16", U16, 65535), ("t.i16", I16, -300),
              ("t.u32", U32, 4000000000), ("t.i32", I32, -7), ("t.f32", F32T, 0.1),
              ("t.bool", BOOL, 1), ("t.str", STR, "h\u00e9llo"), ("t.u64", U64, 2**64 - 1),
              ("t.i64", I64, -2**63), ("t.f64", F64, float("nan")), ("t.f32_inf", F32T, float("-inf")),
              ("t.arr_u8", ARR, (U8, [1, 2, 3])), ("t.arr_i64", ARR, (I64, [-1, 2**40])),
              ("t.arr_f64", ARR, (F64, [0.5, -0.0])), ("t.arr_bool", ARR, (BOOL, [0, 1, 1])),
              ("t.arr_empty", ARR, (STR, [])), ("t.arr_u16", ARR, (U16, [7, 8]))]


def gguf_open_seeds():
    s = {}
    ok = gguf(LLAMA + TOKENIZER, TENSORS)
    s["valid_llama_tiny"] = ok
    s["valid_llama_tiny_v2"] = gguf(LLAMA + TOKENIZER, TENSORS, version=2)
    s["valid_v1"] = gguf(LLAMA + TOKENIZER, TENSORS, version=1)
    s["valid_big_endian"] = gguf(LLAMA + TOKENIZER, TENSORS, be=True)
    s["valid_big_endian_v1"] = gguf(EVERY_TYPE, TENSORS[:2], version=1, be=True)
    s["valid_empty"] = gguf()
    s["valid_kv_only_every_type"] = gguf(EVERY_TYPE)
    s["valid_every_type_big_endian"] = gguf(EVERY_TYPE, [("x", 30, [2], None)], be=True)
    s["valid_tensors_only"] = gguf([], [("a", 0, [1], None), ("b", 24, [3], None), ("c", 28, [1, 1, 1, 2], None)])
    s["valid_zero_size_tensors"] = gguf([], [("e0", 0, [0], None), ("e1", 1, [4, 0], None), ("x", 0, [], None)])
    s["valid_align_64"] = gguf([("general.alignment", U32, 64)] + LLAMA, TENSORS[:3], align=64)
    s["valid_align_8"] = gguf([("general.alignment", U32, 8)], [("a", 26, [3], None), ("b", 25, [1], None)], align=8)
    s["refcompat_nested_arrays"] = gguf([("n.arr", ARR, (ARR, [(U8, [1, 2]), (STR, ["x", ""]), (ARR, [(I32, [5])])]))])
    s["valid_quant_blocks"] = gguf([], [("q4_0", 2, [64], None), ("q4_1", 3, [32, 2], None),
                                        ("q8_0", 8, [32], None), ("q6_k", 14, [256], None)])
    s["valid_split_keys"] = gguf([("split.no", U16, 0), ("split.count", U16, 1),
                                  ("split.tensors.count", I32, 1)], [("a", 0, [2], None)])
    # Accepted by default, refused by strict mode (one hazard each).
    s["strict_align_4"] = gguf([("general.alignment", U32, 4)], [("a", 24, [3], None), ("b", 0, [1], None)], align=4)
    s["strict_key_syntax"] = gguf([("General.Name", STR, "x"), ("a..b", U8, 1)])
    s["strict_bool_2"] = gguf([("t.bool", BOOL, 2), ("t.bools", ARR, (BOOL, [0, 5]))])
    s["strict_string_not_utf8"] = gguf([("t.s", STR, b"\xff\xfe"), ("t.a", ARR, (STR, [b"ok", b"\xc0\xaf"]))])
    s["strict_tensor_name_nul"] = gguf([], [("a\0b", 0, [1], None)])
    s["strict_tensor_name_not_utf8"] = gguf([], [(b"w\xff", 0, [1], None)])
    s["strict_token_id_outside_vocab"] = gguf(TOKENIZER[:2] + [("tokenizer.ggml.eos_token_id", U32, 99)])
    s["strict_unpadded_end"] = gguf([], [("a", 0, [1], None)], pad_end=False)
    s["strict_trailing_data"] = gguf([], [("a", 0, [1], None)], tail=b"\1" * 32)
    s["strict_trailing_data_no_tensors"] = gguf([("a.b", U8, 1)], tail=b"junk")
    # Accepted by default, refused by reference_compatible (and strict).
    s["refcompat_v1"] = gguf([("a.b", STR, "v1")], version=1)
    s["refcompat_big_endian"] = gguf([("a.b", U32, 7)], [("w", 0, [2], None)], be=True)
    # Broken: one rule each.
    s["bad_magic"] = b"GGUG" + ok[4:]
    s["bad_short"] = b"GGU"
    s["bad_version_0"] = gguf(version=0)
    s["bad_version_4"] = b"GGUF" + struct.pack("<IQQ", 4, 0, 0)
    s["bad_truncated_header"] = ok[:20]
    s["bad_truncated_kvs"] = gguf([("a.b", U8, 1), ("a.c", STR, "x" * 300)])[:200]
    s["bad_truncated_data"] = ok[:-40]
    s["bad_truncated_infos"] = gguf([], TENSORS)[:60]
    s["bad_count_huge"] = b"GGUF" + struct.pack("<IQQ", 3, 2**62, 2**63 + 5)
    s["bad_kv_count_huge"] = b"GGUF" + struct.pack("<IQQ", 3, 0, 1 << 40) + ok[24:]
    s["bad_string_too_long"] = b"GGUF" + struct.pack("<IQQQ", 3, 0, 1, (1 << 30) + 1) + b"k" * 16
    s["bad_array_too_long"] = gguf([("a.b", ARR, (U8, []))])[:-8] + struct.pack("<Q", (1 << 30) + 1) + b"\0" * 16
    s["bad_array_truncated"] = gguf([("a.b", ARR, (U32, [1, 2, 3]))])[:-2]
    s["bad_string_array_lengths"] = gguf([("a.b", ARR, (STR, ["x"]))])[:-9] + struct.pack("<Q", 1 << 20) + b"x"
    deep = (U8, [1])
    for _ in range(17):
        deep = (ARR, [deep])
    s["bad_nesting_too_deep"] = gguf([("a.deep", ARR, deep)])
    s["bad_value_type"] = gguf([("a.b", U8, 1)])[:-5] + struct.pack("<I", 13) + b"\1"
    s["bad_element_type"] = gguf([("a.b", ARR, (U8, [1]))])[:-13] + struct.pack("<IQ", 77, 1) + b"\1"
    s["bad_empty_key"] = gguf([("", U8, 1), ("a.b", STR, "padding")])
    s["bad_duplicate_key"] = gguf([("a.b", U8, 1), ("a.b", U8, 2)])
    s["bad_nul_in_key"] = gguf([("general.alignment\0x", U32, 64)])
    s["bad_alignment_not_pow2"] = gguf([("general.alignment", U32, 48)])
    s["bad_alignment_zero"] = gguf([("general.alignment", U32, 0)])
    s["bad_alignment_type"] = gguf([("general.alignment", U64, 32)])
    s["bad_known_key_type"] = gguf([("general.architecture", U32, 1)])
    s["bad_arch_key_type"] = gguf([("general.architecture", STR, "llama"), ("llama.block_count", STR, "1")])
    s["bad_scores_short"] = gguf([TOKENIZER[1], ("tokenizer.ggml.scores", ARR, (F32T, [0.0]))])
    s["bad_tensor_name_too_long"] = gguf([], [("n" * 64, 0, [1], None)])
    s["bad_tensor_duplicate"] = gguf([], [("a", 0, [1], None), ("a", 0, [1], None)])
    s["bad_tensor_duplicate_c_string"] = gguf([], [("a\0x", 0, [1], None), ("a\0y", 0, [1], None)])
    s["bad_n_dims_5"] = gguf([], [("a", 0, [1, 1, 1, 1, 1], None)])
    s["bad_ne_negative"] = gguf([], [("a", 24, [1], None, {"ne": [2**63]})])
    s["bad_type_removed"] = gguf([], [("a", 2, [32], None, {"type": 4})])
    s["bad_type_unknown"] = gguf([], [("a", 0, [1], None, {"type": 99})])
    s["bad_block_partial"] = gguf([], [("a", 2, [32], None, {"ne": [31]})])
    s["bad_shape_overflow"] = gguf([], [("a", 0, [1], None, {"ne": [2**32, 2**32]})])
    s["bad_size_overflow"] = gguf([], [("a", 0, [1], None, {"ne": [2**31, 2**31]})])
    s["bad_offset_hole"] = gguf([], [("a", 0, [1], None, {"offset": 32})], tail=b"\0" * 32)
    s["bad_offset_misaligned"] = gguf([], [("a", 0, [1], None), ("b", 0, [1], None)]).replace(
        struct.pack("<IQ", 0, 32), struct.pack("<IQ", 0, 4))
    s["bad_data_past_end"] = gguf([], [("a", 0, [64], None)])[:-100]
    s["bad_data_section_past_end"] = gguf([], [("a", 0, [0], b"")])[:-1]
    s["bad_big_endian_truncated"] = s["valid_big_endian"][:-50]
    s["bad_v1_truncated"] = s["valid_v1"][:150]
    for name in sorted(os.listdir(GGUF_GOLDEN)) if os.path.isdir(GGUF_GOLDEN) else []:
        if name.endswith(".gguf"):
            with open(os.path.join(GGUF_GOLDEN, name), "rb") as f:
                s["golden_" + name[:-5]] = f.read()
    if os.path.isdir(GGUF_CORPUS):
        for root, _, files in sorted(os.walk(GGUF_CORPUS)):
            for name in sorted(files):
                path = os.path.join(root, name)
                if os.path.getsize(path) > 65536:
                    continue  # fuzz/run.sh runs with -max_len=65536
                with open(path, "rb") as f:
                    rel = os.path.relpath(path, GGUF_CORPUS).replace(os.sep, "_")
                    s["corpus_" + rel] = f.read()
    return s


def split_file(no, count, tensors, total=None, extra=()):
    kvs = list(extra) + [("split.no", U16, no), ("split.count", U16, count)]
    if total is not None:
        kvs.append(("split.tensors.count", I32, total))
    return gguf(kvs, tensors)


def gguf_split_seeds():
    """Concatenations of the files of a split set (the fuzzer cuts before each "GGUF")."""
    a, b, c = [("a", 0, [2], None)], [("b", 1, [4], None)], [("c", 0, [1, 3], None)]
    s = {}
    s["valid_single_unsplit"] = gguf(LLAMA, a)
    s["valid_count_1"] = split_file(0, 1, a, 1)
    s["valid_2_of_2"] = split_file(0, 2, a, 2, LLAMA) + split_file(1, 2, b)
    s["valid_3_of_3"] = split_file(0, 3, a, 3, LLAMA) + split_file(1, 3, b) + split_file(2, 3, c)
    s["valid_3_of_3_no_total"] = split_file(0, 3, a) + split_file(1, 3, []) + split_file(2, 3, b + c)
    s["valid_2_of_2_kv_only_second"] = split_file(0, 2, a + b, 2) + split_file(1, 2, [])
    s["bad_missing_split"] = split_file(0, 3, a, 2) + split_file(1, 3, b)
    s["bad_count_mismatch"] = split_file(0, 2, a, 2) + split_file(1, 3, b)
    s["bad_no_mismatch"] = split_file(0, 2, a, 2) + split_file(0, 2, b)
    s["bad_not_first"] = split_file(1, 2, a, 2) + split_file(0, 2, b)
    s["bad_duplicate_tensor"] = split_file(0, 2, a, 2) + split_file(1, 2, a)
    s["bad_total"] = split_file(0, 2, a, 5) + split_file(1, 2, b)
    s["bad_second_broken"] = split_file(0, 2, a, 2) + split_file(1, 2, b)[:-40]
    s["bad_count_type"] = gguf([("split.count", U32, 2)], a) + split_file(1, 2, b)
    s["bad_huge_count"] = split_file(0, 65535, a, 1) + split_file(1, 65535, b)
    # Sets from tests/data/gguf/split/ (PREFIX-0000i-of-0000N.gguf), concatenated
    # when the fuzzer can cut them apart again (N <= 3, "GGUF" only at each start).
    if os.path.isdir(GGUF_SPLIT):
        sets = {}
        for name in sorted(os.listdir(GGUF_SPLIT)):
            m = re.match(r"(.*)-(\d{5})-of-(\d{5})\.gguf$", name)
            if m:
                sets.setdefault((m.group(1), int(m.group(3))), []).append(name)
        for (prefix, n), names in sorted(sets.items()):
            parts = []
            for name in sorted(names):
                with open(os.path.join(GGUF_SPLIT, name), "rb") as f:
                    parts.append(f.read())
            if n <= 3 and len(parts) == n and all(p.find(b"GGUF", 1) == -1 for p in parts):
                s["split_" + prefix] = b"".join(parts)
    return s


# ---- zip_fuzzer ----------------------------------------------------------------

def raw_deflate(data):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def zip_archive(members, zip64_end=False, prefix=b"", comment=b"", trailer=b""):
    """members: dicts with name, data and optional deflate, flags, local_name,
    descriptor, zip64 (central sizes/offset in a ZIP64 extra), align ('FB'
    padding as torch writes), crc (override). Returns (bytes, layout)."""
    out = bytearray(prefix)
    lay = {"local": [], "central": []}
    payloads = []
    for m in members:
        data = m["data"]
        payload = raw_deflate(data) if m.get("deflate") else data
        name = m["name"].encode() if isinstance(m["name"], str) else m["name"]
        lname = m.get("local_name", name)
        desc = m.get("descriptor", False)
        flags = m.get("flags", 0) | (8 if desc else 0)
        crc = m.get("crc", zlib.crc32(data))
        lay["local"].append(len(out))
        extra = b""
        if m.get("align"):
            base = len(out) + 30 + len(lname) + 4
            pad = -base % m["align"]
            extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
        out += struct.pack("<IHHHIIIIHH", 0x04034B50, 45 if m.get("zip64") else 20, flags,
                           8 if m.get("deflate") else 0, 0, 0 if desc else crc,
                           0 if desc else len(payload), 0 if desc else len(data), len(lname), len(extra))
        out += lname + extra + payload
        if desc:
            if m.get("zip64"):
                out += struct.pack("<IIQQ", 0x08074B50, crc, len(payload), len(data))
            else:
                out += struct.pack("<IIII", 0x08074B50, crc, len(payload), len(data))
        payloads.append(payload)
    cd = len(out)
    for i, m in enumerate(members):
        data, payload = m["data"], payloads[i]
        name = m["name"].encode() if isinstance(m["name"], str) else m["name"]
        flags = m.get("flags", 0) | (8 if m.get("descriptor") else 0)
        crc = m.get("crc", zlib.crc32(data))
        extra = b""
        csize, usize, off = len(payload), len(data), lay["local"][i]
        if m.get("zip64"):
            extra = struct.pack("<HHQQQ", 1, 24, usize, csize, off)
            csize = usize = off = 0xFFFFFFFF
        lay["central"].append(len(out))
        out += struct.pack("<IHHHHIIIIHHHHHII", 0x02014B50, 45, 45, flags, 8 if m.get("deflate") else 0, 0,
                           crc, csize, usize, len(name), len(extra), 0, 0, 0, 0, off)
        out += name + extra
    cd_size = len(out) - cd
    n = len(members)
    if zip64_end:
        rec = len(out)
        out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, n, n, cd_size, cd)
        out += struct.pack("<IIQI", 0x07064B50, 0, rec, 1)
    lay["eocd"] = len(out)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, cd_size, cd, len(comment)) + comment + trailer
    return bytes(out), lay


def patch(data, offset, fmt, *values):
    b = bytearray(data)
    struct.pack_into(fmt, b, offset, *values)
    return bytes(b)


# Written by CPython's zipfile (force_zip64=True: ZIP64 extras in the local headers).
PYTHON_FORCE_ZIP64 = bytes.fromhex(
    "504b03042d000000000000002100318833d8ffffffffffffffff090014006269672f612e62696e01001000140000000000000014000000"
    "000000007a697036342073746f726564207061796c6f6164504b03042d00000008000000210007d66f90ffffffffffffffff0900140062"
    "69672f622e74787401001000b4000000000000000e000000000000004b494dcb492c494d5148193a0c00504b01022d032d00000000000000"
    "2100318833d814000000140000000900000000000000000000008001000000006269672f612e62696e504b01022d032d0000000800000021"
    "0007d66f900e000000b400000009000000000000000000000080014f0000006269672f622e747874504b050600000000020002006e000000"
    "980000000000")


def zip_seeds():
    s = {}
    text = b"the quick brown fox " * 20
    torch = [dict(name="archive/data.pkl", data=b"\x80\x02}q\x00.", flags=0x800, descriptor=True, align=64),
             dict(name="archive/data/0", data=struct.pack("<4f", 1, 2, 3, 4), flags=0x800, descriptor=True,
                  align=64),
             dict(name="archive/version", data=b"3\n", flags=0x800, descriptor=True, align=64)]
    basic = [dict(name="dir/", data=b""), dict(name="dir/a.txt", data=b"hello"),
             dict(name="dir/b.txt", data=text, deflate=True)]
    s["valid_empty"], _ = zip_archive([])
    s["valid_basic"], basic_lay = zip_archive(basic)
    s["valid_torch"], _ = zip_archive(torch, zip64_end=True)
    s["valid_zip64_extra"], _ = zip_archive(
        [dict(name="big/a", data=b"zip64 payload", zip64=True),
         dict(name="big/b", data=text, deflate=True, zip64=True, descriptor=True)], zip64_end=True)
    s["valid_python_force_zip64"] = PYTHON_FORCE_ZIP64
    s["valid_comment"], _ = zip_archive(basic[1:], comment=b"a comment")
    s["valid_empty_deflate"], _ = zip_archive([dict(name="e", data=b"", deflate=True)])

    s["issue_duplicate"], _ = zip_archive([dict(name="a", data=b"1"), dict(name="b", data=b"2"),
                                           dict(name="a", data=b"3")])
    s["issue_local_name"], _ = zip_archive([dict(name="archive/data.pkl", data=b"x", local_name=b"evil.pkl")])
    s["issue_flags_encrypted"], _ = zip_archive([dict(name="a", data=b"secret", flags=1)])
    s["issue_flags_patched"], _ = zip_archive([dict(name="a", data=b"secret", flags=0x20, deflate=True)])
    s["issue_crc"], _ = zip_archive([dict(name="a.pkl", data=b"pickle", crc=0xDEADBEEF),
                                     dict(name="b", data=text, deflate=True, crc=1)])
    s["issue_unsafe_names"], _ = zip_archive([dict(name="../x", data=b"1"), dict(name="/abs", data=b"2"),
                                              dict(name=b"a\\b\x00c", data=b"3")])
    s["issue_prefix"], _ = zip_archive(basic, prefix=b"#!/bin/sh\nexit 0\n")
    s["issue_trailer"], _ = zip_archive(basic, trailer=b"appended")
    s["issue_comment_signature"], _ = zip_archive(basic, comment=b"PK\x05\x06" + b"\x00" * 18)
    data, lay = zip_archive([dict(name="a", data=b"shared"), dict(name="b", data=b"other")])
    data = patch(data, lay["central"][1] + 16, "<III", zlib.crc32(b"shared"), 6, 6)
    s["issue_overlap"] = patch(data, lay["central"][1] + 42, "<I", 0)
    data, lay = zip_archive([dict(name="a", data=b"abc")])
    data = patch(data, lay["central"][0] + 10, "<H", 12)
    s["issue_method"] = patch(data, lay["local"][0] + 8, "<H", 12)
    data, lay = zip_archive(torch, zip64_end=True)
    s["issue_eocd_mismatch"] = patch(data, lay["eocd"] + 8, "<HH", 2, 2)

    b = s["valid_basic"]
    eocd = basic_lay["eocd"]
    s["bad_truncated_eocd"] = b[:eocd + 10]
    s["bad_truncated_half"] = b[:len(b) // 2]
    s["bad_count_huge"] = patch(b, eocd + 8, "<HH", 0xFFFF, 0xFFFF)
    s["bad_count_low"] = patch(b, eocd + 8, "<HH", 2, 2)
    s["bad_cd_offset"] = patch(b, eocd + 16, "<I", 0xFFFFFF00)
    s["bad_cd_signature"] = patch(b, basic_lay["central"][1], "<I", 0x12345678)
    s["bad_local_offset"] = patch(b, basic_lay["central"][2] + 42, "<I", 1)
    s["bad_data_out_of_file"] = patch(b, basic_lay["central"][2] + 20, "<I", 0x7FFFFFFF)
    s["bad_inflate_size"] = patch(patch(b, basic_lay["central"][2] + 24, "<I", len(text) + 1),
                                  basic_lay["local"][2] + 22, "<I", len(text) + 1)
    s["bad_inflate_stream"] = patch(b, basic_lay["local"][2] + 30 + 9, "<B", 0x07)
    s["bad_inflate_ratio"] = patch(b, basic_lay["central"][2] + 24, "<I", 0xF0000000)
    s["bad_multi_disk"] = patch(b, eocd + 4, "<H", 1)
    t = s["valid_torch"]
    loc = t.rfind(b"PK\x06\x07")
    s["bad_eocd64_offset"] = patch(t, loc + 8, "<Q", 0xFFFFFFFFFFFFFF00)
    s["bad_eocd64_signature"] = patch(t, t.rfind(b"PK\x06\x06"), "<I", 0)
    data, lay = zip_archive([dict(name="a", data=b"x", zip64=True)])
    s["bad_zip64_extra_short"] = patch(data, lay["central"][0] + 46 + 1 + 2, "<H", 16)
    return s


def pickle_seeds():
    """Real pickles (pickle.dumps, protocols 0-5), a torch-like state dict
    (protocol 2, as torch.save writes data.pkl: OrderedDict, _rebuild_tensor_v2,
    storages by BINPERSID), and hand-made streams for each decoder hazard."""
    import collections
    import pickle
    import sys
    import types

    s = {}
    value = {"ints": [0, -1, 255, 65536, 2**31, 2**63, -(2**63) - 1, 2**100], "floats": [0.5, -0.0, float("inf")],
             "str": ["", "h\u00e9llo", "\ud800", "a\\b\nc"], "bytes": [b"", b"\x00\xff", bytearray(b"ab")],
             "nested": ((1, (2,)), {3, 4}, frozenset({5}), None, True, False)}
    shared = [1]
    value["shared"] = [shared, shared]
    for p in range(6):
        s["plain_p%d" % p] = pickle.dumps(value, protocol=p)
    cyc = []
    cyc.append(cyc)
    s["self_list_p2"] = pickle.dumps(cyc, protocol=2)
    s["long_list_p4"] = pickle.dumps([None] * 1000 + [1], protocol=4)

    # torch-like: fake modules so pickle can name the globals; nothing runs.
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    class FloatStorage:
        pass

    def _rebuild_tensor_v2(*args):
        pass

    FloatStorage.__module__, FloatStorage.__qualname__ = "torch", "FloatStorage"
    _rebuild_tensor_v2.__module__, _rebuild_tensor_v2.__qualname__ = "torch._utils", "_rebuild_tensor_v2"
    torch.FloatStorage = FloatStorage
    torch._utils = utils
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    saved = {k: sys.modules.get(k) for k in ("torch", "torch._utils")}
    sys.modules["torch"] = torch
    sys.modules["torch._utils"] = utils
    try:
        class Storage:
            def __init__(self, key, n):
                self.key, self.n = key, n

        class Tensor:
            def __init__(self, storage, offset, size, stride):
                self.args = (storage, offset, size, stride, False, collections.OrderedDict())

            def __reduce_ex__(self, proto):
                return (_rebuild_tensor_v2, self.args)

        class TorchPickler(pickle.Pickler):
            def persistent_id(self, obj):
                if isinstance(obj, Storage):
                    return ("storage", FloatStorage, obj.key, "cpu", obj.n)
                return None

        import io
        st0, st1 = Storage("0", 6), Storage("1", 4)
        sd = collections.OrderedDict([("layer.weight", Tensor(st0, 0, (2, 3), (3, 1))),
                                      ("layer.bias", Tensor(st1, 0, (2,), (1,))),
                                      ("layer.bias_view", Tensor(st1, 2, (2,), (1,)))])
        sd._metadata = collections.OrderedDict([("", {"version": 1})])
        buf = io.BytesIO()
        TorchPickler(buf, protocol=2).dump(sd)
        s["torch_state_dict_p2"] = buf.getvalue()
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v

    # Protocol 5 out-of-band buffers (NEXT_BUFFER, READONLY_BUFFER).
    s["buffers_p5"] = pickle.dumps([pickle.PickleBuffer(b"abc"), pickle.PickleBuffer(bytearray(b"xy"))],
                                   protocol=5, buffer_callback=lambda b: False)

    def su(t):
        b = t.encode()
        return b"\x8c" + bytes([len(b)]) + b

    def frame(n):
        return b"\x95" + n.to_bytes(8, "little")

    p4 = b"\x80\x04"
    s["hand_global_reduce_p0"] = b"cos\nsystem\n(S'ls'\ntR."
    s["hand_inst_obj_p0"] = b"(S'ls'\nios\nsystem\n(cos\nsystem\nS'x'\no\x86."
    s["hand_stack_global_dotted"] = p4 + su("pathlib") + b"\x94" + su("os.system") + b"\x94\x93" + su("id") + b"\x85R."
    s["hand_stack_global_dynamic"] = p4 + b"cbuiltins\nstr\n" + su("os") + b"\x85R" + su("system") + b"\x93)R."
    s["hand_newobj_build"] = p4 + b"c__main__\nC\n)\x81c__main__\nD\n)}\x92}" + su("x") + b"K\x01sb\x86."
    s["hand_ext"] = b"\x80\x02\x82\x05\x83\x34\x12\x84\x78\x56\x34\x12\x87."
    s["hand_persid"] = b"Pstorage 0\n(X\x07\x00\x00\x00storageQ\x86."
    s["hand_memoize_after_pop"] = p4 + su("a") + b"\x94" + su("b") + b"\x940" + su("c") + b"\x94h\x01h\x02\x86."
    s["hand_memo_missing"] = b"\x80\x02K\x01q\x04h\x05."
    s["hand_text_memo"] = b"Np 1\n0K\x07p+2\n0S'x'\np0_3\n0(g1\ng 2 \ng3\nt."
    s["hand_frame_cut"] = p4 + frame(3) + su("hello") + b"."
    s["hand_frame_nested"] = p4 + frame(10) + frame(1) + b"N."
    s["hand_frame_too_long"] = p4 + frame(100) + b"N."
    s["hand_pop_mark"] = b"N(0K\x01(K\x02K\x031\x86."
    s["hand_text_numbers"] = b"(I010\nI01\nL0x10L\nL-123456789012345678901234567890L\nF1.5\nFnan\nI0b11\nt."
    s["hand_text_strings"] = b"(S'\\x41\\101\\n'\nV\\u0041\\\\u0041\\ud800\xe9\nX\x03\x00\x00\x00\xed\xa0\x80t."
    s["hand_long1"] = b"\x80\x02(\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x80\x00\x8a\x0a\x01" + b"\x00" * 9 + b"\x8b\x01\x00\x00\x00\xfft."
    s["hand_method_calls"] = p4 + b"ccollections\nOrderedDict\n)R(" + su("a") + b"K\x01u(K\x02eK\x05(u."
    s["hand_proto6"] = b"\x80\x06N."
    s["hand_bad_opcode"] = b"\x80\x02N\xff."
    s["hand_two_pickles"] = b"\x80\x02N.\x80\x02cos\nsystem\n."
    return s


def write(target, seeds):
    out = os.path.join(HERE, "corpus", target)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    for name, data in sorted(seeds.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    total = sum(len(d) for d in seeds.values())
    print("%-28s %3d files, %6d bytes" % (target, len(seeds), total))


TARGETS = {
    "safetensors_open_fuzzer": open_seeds,
    "safetensors_index_fuzzer": index_seeds,
    "gguf_open_fuzzer": gguf_open_seeds,
    "gguf_split_fuzzer": gguf_split_seeds,
    "zip_fuzzer": zip_seeds,
    "pickle_fuzzer": pickle_seeds,
}


def main():
    import sys
    names = sys.argv[1:] or list(TARGETS)
    for name in names:
        if name not in TARGETS:
            sys.exit("unknown target %r; known: %s" % (name, " ".join(TARGETS)))
        write(name, TARGETS[name]())


if __name__ == "__main__":
    main()
