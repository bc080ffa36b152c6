$CKPT inspect --json gguf/split/five-00001-of-00003.gguf | grep -o '"name":"[^"]*"' | tr '\n' ' '; echo
$CKPT hash --no-layer gguf/split/five-00001-of-00003.gguf | cut -c1-26
$CKPT hash --no-layer gguf/split/five.gguf | cut -c1-26
