$CKPT split -q gguf/split/five.gguf "$TMP/five" --max-tensors 2 || exit 9
for i in 1 2 3; do cmp "$TMP/five-0000$i-of-00003.gguf" gguf/split/five-0000$i-of-00003.gguf || exit 8; done
$CKPT split -q gguf/split/five.gguf "$TMP/ntfs.gguf" --max-tensors 2 --no-tensor-first-split || exit 7
for i in 1 2 3 4; do cmp "$TMP/ntfs-0000$i-of-00004.gguf" gguf/split/ntfs-0000$i-of-00004.gguf || exit 6; done
$CKPT split -q gguf/split/trailing_ones.gguf "$TMP/tones" || exit 5
cmp "$TMP/tones-00001-of-00001.gguf" gguf/split/tones-00001-of-00001.gguf || exit 4
echo identical
