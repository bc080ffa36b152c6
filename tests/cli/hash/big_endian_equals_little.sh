# Big-endian GGUF data is hashed in little-endian order: same values, same hashes.
set -e
$CKPT convert -q gguf/golden/bigendian.gguf "$TMP/le.gguf"
strip() { sed "s|^\(xxh64 *[0-9a-f]*  \)[^:]*|\1|"; }
diff <($CKPT hash gguf/golden/bigendian.gguf | strip) <($CKPT hash "$TMP/le.gguf" | strip)
$CKPT hash gguf/golden/bigendian.gguf
