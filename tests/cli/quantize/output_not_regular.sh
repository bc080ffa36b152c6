# An OUT that is a FIFO is refused (never replaced by a regular file); a
# symlinked OUT is written through and stays a symlink.
G=quant/review/tiny-f32.gguf
mkfifo "$TMP/fifo"
"$CKPT" quantize -q $G "$TMP/fifo" Q8_0 2>&1 | sed "s|$TMP/||"
[ -p "$TMP/fifo" ] && echo "fifo still a fifo"
touch "$TMP/real.gguf" && ln -s real.gguf "$TMP/link.gguf"
"$CKPT" quantize -q $G "$TMP/link.gguf" Q8_0 && [ -L "$TMP/link.gguf" ] && [ -s "$TMP/real.gguf" ] && echo "written through the link"
