#!/usr/bin/env bash
# make demo: generate a small checkpoint and run the main job on it.
set -euo pipefail
CKPT=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(dirname "$CKPT")
DIR=$BUILD/demo
rm -rf "$DIR" && mkdir -p "$DIR"
if [ -t 1 ]; then B=$'\033[1m'; N=$'\033[0m'; else B=""; N=""; fi
step() { printf '\n%s$ %s%s\n' "$B" "$*" "$N"; }
run() { step "$*"; "$@"; }

"$BUILD/make_sample" "$DIR/model.safetensors"
cd "$DIR"
step "$CKPT inspect model.safetensors"
"$CKPT" inspect model.safetensors > inspect.txt && head -24 inspect.txt && echo "  ..."
run "$CKPT" validate --strict model.safetensors
step "$CKPT inspect --json model.safetensors"
"$CKPT" inspect --json model.safetensors > inspect.json && head -c 400 inspect.json && echo " ..."
run "$CKPT" convert --dtype f32 model.safetensors model-f32.safetensors
run "$CKPT" convert --dtype bf16 model-f32.safetensors roundtrip.safetensors
run cmp model.safetensors roundtrip.safetensors
echo "bf16 -> f32 -> bf16 is byte-identical"
run "$CKPT" convert --max-shard-size 8MB model.safetensors sharded
run ls -l sharded
run "$CKPT" validate sharded
run "$CKPT" convert sharded unsharded.safetensors
run cmp model.safetensors unsharded.safetensors
echo "shard -> unshard is byte-identical"
step "corrupt a copy (drop the last byte) and validate it"
head -c -1 model.safetensors > truncated.safetensors
"$CKPT" validate model.safetensors truncated.safetensors || echo "(exit status $?: invalid)"

step "GGUF: convert, edit, split, hash, merge"
run "$CKPT" convert model.safetensors model.gguf
run "$CKPT" edit model.gguf edited.gguf --set general.name=str:demo --set tokenizer.ggml.add_bos_token=bool:false
step "$CKPT inspect edited.gguf"
"$CKPT" inspect edited.gguf | head -14 && echo "  ..."
run "$CKPT" split model.gguf parts --max-tensors 16
run "$CKPT" hash --no-layer parts-00001-of-00003.gguf
run "$CKPT" hash --no-layer model.gguf
run "$CKPT" merge parts-00001-of-00003.gguf merged.gguf
run "$CKPT" convert merged.gguf back.safetensors
run cmp model.safetensors back.safetensors
echo "safetensors -> gguf -> split -> merge -> safetensors is byte-identical"
step "PyTorch without pickle, and scan"
DATA=$HERE/../tests/data
cp "$DATA/pytorch/module_state_dict.pt" "$DATA/pytorch/legacy_stacked.pt" .
run "$CKPT" inspect module_state_dict.pt
run "$CKPT" convert module_state_dict.pt from-torch.safetensors
run "$CKPT" scan module_state_dict.pt legacy_stacked.pt from-torch.safetensors model.gguf
step "a pickle that would run os.system if loaded (ckpt never runs it)"
printf '\x80\x02cos\nsystem\nX\x04\x00\x00\x00true\x85R.' > evil.bin
"$CKPT" scan evil.bin || echo "(exit status $?: unsafe)"

step "Quantize like llama-quantize (same types, options and bytes)"
"$BUILD/make_llama_gguf" llama-f16.gguf 4 512 1408 8 4 4096 f16
run "$CKPT" quantize llama-f16.gguf --dry-run Q4_K_M
run "$CKPT" quantize llama-f16.gguf llama-q4_k_m.gguf Q4_K_M
run "$CKPT" quantize llama-f16.gguf llama-q4_k_m-1t.gguf Q4_K_M --threads 1 -q
run cmp llama-q4_k_m.gguf llama-q4_k_m-1t.gguf
echo "same bytes with 1 thread and with all cores"
run "$CKPT" validate llama-q4_k_m.gguf
run "$CKPT" convert --dtype f16 llama-q4_k_m.gguf dequantized.safetensors

step "Hugging Face folder -> GGUF (convert_hf_to_gguf.py's bytes), quantized in the same pass, and back"
cp -r "$DATA/hf/tiny-llama-sharded" .
run "$CKPT" convert tiny-llama-sharded tiny-llama.bf16.gguf --dtype bf16
run cmp tiny-llama.bf16.gguf "$DATA/hf/ref/tiny-llama-sharded.bf16.gguf"
echo "identical to llama.cpp's converter output"
run "$CKPT" convert tiny-llama-sharded tiny-llama.Q4_K_M.gguf --dtype Q4_K_M
run "$CKPT" convert tiny-llama.bf16.gguf tiny-llama-hf --dtype bf16
ls tiny-llama-hf
printf '\nDemo files are in %s\n' "$DIR"
