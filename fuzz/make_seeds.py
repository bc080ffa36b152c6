#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (plain Python 3, no numpy).

    python3 fuzz/make_seeds.py            # rewrites fuzz/corpus/<target>/

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
"""

import json
import math
import os
import shutil
import struct

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


def write(target, seeds):
    out = os.path.join(HERE, "corpus", target)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    for name, data in sorted(seeds.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    total = sum(len(d) for d in seeds.values())
    print("%-28s %3d files, %6d bytes" % (target, len(seeds), total))


def main():
    write("safetensors_open_fuzzer", open_seeds())
    write("safetensors_index_fuzzer", index_seeds())


if __name__ == "__main__":
    main()
