# An unknown TYPE is a usage error.
"$CKPT" quantize gguf/golden/align64.gguf "$TMP/out.gguf" Q9_Z
