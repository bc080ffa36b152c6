# Names in the manifest are PATH as given, so run where it was written.
cd gguf/hash || exit 98
$CKPT hash --json --check small.xxh64-bad.manifest small.gguf
