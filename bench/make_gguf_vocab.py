#!/usr/bin/env python3
"""Writes a GGUF whose metadata looks like a big real tokenizer, for benchmarks.

    /usr/bin/python3 bench/make_gguf_vocab.py OUT [--writer gguf-py|plain]
        [--gguf-py DIR] [--n-vocab 256000] [--n-merges 250000] [--seed 1]

Content, in this order (the KV order convert_hf_to_gguf.py produces):
  general.architecture="llama", general.* strings, 25 llama.* KVs,
  tokenizer.ggml.model="gpt2", tokenizer.ggml.pre,
  tokenizer.ggml.tokens      str[n_vocab]: the 256 GPT-2 byte-level
                             characters, then unique random "words" of 1-16
                             characters in the byte-level alphabet (leading
                             'Ġ' = space on ~60%), last 8 are <|special|> tokens
  tokenizer.ggml.scores      f32[n_vocab]  (-rank)
  tokenizer.ggml.token_type  i32[n_vocab]  (1 normal, 3 control for specials)
  tokenizer.ggml.merges      str[n_merges] "left right" pairs of tokens
  bos/eos/pad ids, add_bos_token, a chat template,
  then 20 small F32 tensors (2 layers of a tiny llama, 64 wide).
With the defaults the file is ~13.8 MB (sha256 61c4b0c8...), nearly all of
it metadata; both writers produce identical bytes.

--writer gguf-py (default) uses gguf-py's GGUFWriter, imported from --gguf-py /
$GGUF_PY (default /work/oracle/src/gguf-py-copy; the gguf-py/ dir or its
parent).  --writer plain is a struct-based writer with no gguf-py dependency
that writes the same bytes (same KV order, alignment 32, zero padding, n_dims =
numpy rank); both are deterministic for a given --seed.
"""
import argparse
import os
import random
import struct
import sys
import time

import numpy as np

DEFAULT_GGUF_PY = "/work/oracle/src/gguf-py-copy"
EMB, N_LAYER, N_HEAD, N_HEAD_KV, N_FF = 64, 2, 4, 2, 176


def byte_level_alphabet():
    """GPT-2's bytes_to_unicode(): 256 printable characters, one per byte."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def make_vocab(n_vocab, n_merges, seed):
    rnd = random.Random(seed)
    alphabet = byte_level_alphabet()
    # Mostly ASCII letters (like real BPE vocabularies), some other byte chars.
    letters = [c for c in alphabet if c.isalpha() and c.isascii()]
    specials = [f"<|special_{i}|>" for i in range(8)]
    tokens = list(alphabet)
    seen = set(tokens) | set(specials)
    n_words = n_vocab - len(alphabet) - len(specials)
    while len(tokens) < len(alphabet) + n_words:
        length = min(16, max(1, int(rnd.expovariate(1 / 6)) + 1))
        pool = letters if rnd.random() < 0.9 else alphabet
        word = "".join(rnd.choice(pool) for _ in range(length))
        if rnd.random() < 0.6:
            word = ("\u0120" + word)[:16]
        if word not in seen:
            seen.add(word)
            tokens.append(word)
    tokens += specials
    scores = [-float(i) for i in range(n_vocab)]
    token_type = [1] * (n_vocab - len(specials)) + [3] * len(specials)
    merges = []
    base = n_vocab - len(specials)
    for _ in range(n_merges):
        a = tokens[rnd.randrange(base)]
        b = tokens[rnd.randrange(base)]
        merges.append(f"{a} {b}")
    return tokens, scores, token_type, merges


# (key, tag, value); tags as in tests/fixtures/make_gguf_golden.py
def metadata(n_vocab, tokens, scores, token_type, merges):
    kv = [
        ("general.type", "str", "model"),
        ("general.name", "str", "Vocab Bench 8B"),
        ("general.size_label", "str", "8B"),
        ("general.license", "str", "apache-2.0"),
        ("general.file_type", "u32", 0),
        ("general.quantization_version", "u32", 2),
        ("llama.vocab_size", "u32", n_vocab),
        ("llama.context_length", "u32", 131072),
        ("llama.embedding_length", "u32", EMB),
        ("llama.block_count", "u32", N_LAYER),
        ("llama.feed_forward_length", "u32", N_FF),
        ("llama.attention.head_count", "u32", N_HEAD),
        ("llama.attention.head_count_kv", "u32", N_HEAD_KV),
        ("llama.attention.key_length", "u32", EMB // N_HEAD),
        ("llama.attention.value_length", "u32", EMB // N_HEAD),
        ("llama.attention.layer_norm_rms_epsilon", "f32", 1e-5),
        ("llama.attention.layer_norm_epsilon", "f32", 1e-6),
        ("llama.attention.clamp_kqv", "f32", 8.0),
        ("llama.attention.causal", "bool", True),
        ("llama.rope.dimension_count", "u32", EMB // N_HEAD),
        ("llama.rope.freq_base", "f32", 500000.0),
        ("llama.rope.scaling.type", "str", "yarn"),
        ("llama.rope.scaling.factor", "f32", 8.0),
        ("llama.rope.scaling.original_context_length", "u32", 8192),
        ("llama.rope.scaling.attn_factor", "f32", 1.0),
        ("llama.rope.scaling.finetuned", "bool", False),
        ("llama.expert_count", "u32", 0),
        ("llama.expert_used_count", "u32", 0),
        ("llama.use_parallel_residual", "bool", False),
        ("llama.tensor_data_layout", "str", "Meta AI original pth"),
        ("llama.logit_scale", "f32", 1.0),
        ("tokenizer.ggml.model", "str", "gpt2"),
        ("tokenizer.ggml.pre", "str", "llama-bpe"),
        ("tokenizer.ggml.tokens", "arr", ("str", tokens)),
        ("tokenizer.ggml.scores", "arr", ("f32", scores)),
        ("tokenizer.ggml.token_type", "arr", ("i32", token_type)),
        ("tokenizer.ggml.merges", "arr", ("str", merges)),
        ("tokenizer.ggml.bos_token_id", "u32", n_vocab - 8),
        ("tokenizer.ggml.eos_token_id", "u32", n_vocab - 7),
        ("tokenizer.ggml.padding_token_id", "u32", n_vocab - 6),
        ("tokenizer.ggml.add_bos_token", "bool", True),
        ("tokenizer.ggml.add_eos_token", "bool", False),
        ("tokenizer.chat_template", "str",
         "{% for message in messages %}<|special_2|>{{ message['role'] }}\n"
         "{{ message['content'] }}<|special_3|>{% endfor %}"),
    ]
    return kv


def tensors(seed):
    rs = np.random.RandomState(seed)
    out = []
    for i in range(N_LAYER):
        p = f"blk.{i}."
        out += [
            (p + "attn_norm.weight", np.ones(EMB, np.float32)),
            (p + "attn_q.weight", rs.standard_normal((EMB, EMB)).astype(np.float32) * 0.02),
            (p + "attn_k.weight", rs.standard_normal((EMB // 2, EMB)).astype(np.float32) * 0.02),
            (p + "attn_v.weight", rs.standard_normal((EMB // 2, EMB)).astype(np.float32) * 0.02),
            (p + "attn_output.weight", rs.standard_normal((EMB, EMB)).astype(np.float32) * 0.02),
            (p + "ffn_norm.weight", np.ones(EMB, np.float32)),
            (p + "ffn_gate.weight", rs.standard_normal((N_FF, EMB)).astype(np.float32) * 0.02),
            (p + "ffn_up.weight", rs.standard_normal((N_FF, EMB)).astype(np.float32) * 0.02),
            (p + "ffn_down.weight", rs.standard_normal((EMB, N_FF)).astype(np.float32) * 0.02),
        ]
    out += [("output_norm.weight", np.ones(EMB, np.float32))]
    out += [("rope_freqs.weight", np.ones(EMB // N_HEAD // 2, np.float32))]
    assert len(out) == 20
    return out


TAGS = ["u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "arr", "u64", "i64", "f64"]
FMT = {"u8": "B", "i8": "b", "u16": "H", "i16": "h", "u32": "I", "i32": "i", "f32": "f",
       "bool": "?", "u64": "Q", "i64": "q", "f64": "d"}


def write_gguf_py(path, gguf_py, kvs, tens):
    for cand in (gguf_py, os.path.join(gguf_py, "gguf-py")):
        if os.path.isfile(os.path.join(cand, "gguf", "__init__.py")):
            sys.path.insert(0, cand)
            break
    else:
        sys.exit(f"gguf-py not found under {gguf_py!r}")
    import logging
    import gguf
    logging.disable(logging.WARNING)
    VT = gguf.GGUFValueType
    w = gguf.GGUFWriter(path, "llama")
    for key, tag, value in kvs:
        if tag == "arr":
            w.add_key_value(key, value[1], VT.ARRAY, sub_type=VT(TAGS.index(value[0])))
        else:
            w.add_key_value(key, value, VT(TAGS.index(tag)))
    for name, arr in tens:
        w.add_tensor(name, arr)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def write_plain(path, kvs, tens, align=32):
    def s(x):
        b = x.encode("utf-8")
        return struct.pack("<Q", len(b)) + b

    def val(tag, v):
        if tag == "str":
            return s(v)
        if tag == "arr":
            et, items = v
            head = struct.pack("<IQ", TAGS.index(et), len(items))
            if et == "str":
                return head + b"".join(s(x) for x in items)
            return head + np.asarray(items, dtype="<" + {"f32": "f4", "i32": "i4"}[et]).tobytes()
        return struct.pack("<" + FMT[tag], v)

    kvs = [("general.architecture", "str", "llama")] + kvs
    out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, len(tens), len(kvs)))
    for key, tag, v in kvs:
        out += s(key) + struct.pack("<I", TAGS.index(tag)) + val(tag, v)
    offset = 0
    for name, arr in tens:
        out += s(name) + struct.pack("<I", arr.ndim) + struct.pack(f"<{arr.ndim}Q", *arr.shape[::-1])
        out += struct.pack("<IQ", 0, offset)  # F32
        offset += -(-arr.nbytes // align) * align
    out += bytes(-len(out) % align)
    for _, arr in tens:
        out += arr.astype("<f4").tobytes() + bytes(-arr.nbytes % align)
    with open(path, "wb") as f:
        f.write(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--writer", choices=["gguf-py", "plain"], default="gguf-py")
    ap.add_argument("--gguf-py", default=os.environ.get("GGUF_PY", DEFAULT_GGUF_PY))
    ap.add_argument("--n-vocab", type=int, default=256000)
    ap.add_argument("--n-merges", type=int, default=250000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    t0 = time.perf_counter()
    tokens, scores, token_type, merges = make_vocab(a.n_vocab, a.n_merges, a.seed)
    kvs = metadata(a.n_vocab, tokens, scores, token_type, merges)
    tens = tensors(a.seed)
    t1 = time.perf_counter()
    if a.writer == "gguf-py":
        write_gguf_py(a.out, a.gguf_py, kvs, tens)
    else:
        write_plain(a.out, kvs, tens)
    t2 = time.perf_counter()
    print(f"{a.out}: {os.path.getsize(a.out)} bytes, {len(kvs) + 1} KVs, {len(tens)} tensors; "
          f"vocab {t1 - t0:.2f}s, write ({a.writer}) {t2 - t1:.2f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
