cp gguf/split/five-00001-of-00003.gguf gguf/split/five-00003-of-00003.gguf "$TMP/"
$CKPT merge "$TMP/five-00001-of-00003.gguf" "$TMP/m.gguf"; code=$?
test -e "$TMP/m.gguf" && echo "output written"
exit $code
