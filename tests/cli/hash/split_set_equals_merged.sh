# A llama-gguf-split set hashes as the one file it splits (whole-model line too).
set -e
cd gguf/hash
strip() { sed "s|^\(xxh64 *[0-9a-f]*  \)[^:]*|\1|"; }
diff <($CKPT hash five-00001-of-00003.gguf | strip) <($CKPT hash five.gguf | strip)
$CKPT hash five-00001-of-00003.gguf
