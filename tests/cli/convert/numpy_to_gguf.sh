$CKPT convert numpy/compressed.npz $TMP/out.gguf && $CKPT inspect --json $TMP/out.gguf | sed "s#$TMP/##" | head -c 400; echo
