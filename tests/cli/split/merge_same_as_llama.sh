$CKPT merge -q gguf/split/five-00001-of-00003.gguf "$TMP/m.gguf" || exit 9
cmp "$TMP/m.gguf" gguf/split/five-merged.gguf || exit 8
$CKPT merge -q gguf/split/ntfs-00001-of-00004.gguf "$TMP/n.gguf" || exit 7
cmp "$TMP/n.gguf" gguf/split/five-merged.gguf || exit 6
echo identical
