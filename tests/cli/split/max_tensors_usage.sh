for n in 0 -1 18446744073709551616; do $CKPT split gguf/split/five.gguf "$TMP/s" --max-tensors $n; echo "exit $?"; done
ls "$TMP"
