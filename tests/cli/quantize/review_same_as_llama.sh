# Review reproducers (tests/data/quant/review, README there): each output must
# have the sha256 of llama-quantize's output for the same command.
cd quant/review  # the imatrix path, as given, is part of the output
R=.
check() {  # expected-sha256 in type options...
  local want=$1 in=$2 type=$3; shift 3
  "$CKPT" quantize -q "$R/$in" "$TMP/o.gguf" "$type" "$@" --threads 2 || { echo "$in $type: exit $?"; return; }
  got=$(sha256sum "$TMP/o.gguf" | cut -c1-64)
  [ "$got" = "$want" ] && echo "$in $type $*: same as llama-quantize" || echo "$in $type $*: DIFFERS"
}
check f287945428e4790c22a13490193239afb23dbf43dc7d1a216555a822bc72dd81 f16-no-file-type.gguf COPY
check b98258ea8f0fb2aa905a6396237a41a1c3dbf9cd4130da35241f5ba3b241616f has-imatrix-keys.gguf Q4_0 --allow-requantize --imatrix imatrix-ok.gguf
check c3b463d57f34024bce667a94252a332ab26f80b6a6f6678459c5fb4326ce3d02 tiny-f32.gguf Q4_0 --imatrix imatrix-count-inf.gguf
check e0e8f0cc6ce7a59c68f53e11adb27289e6380a855f16793c3364321e10674665 tiny-f32.gguf Q4_0 --imatrix imatrix-chunks-2p31.gguf
check 12008b8f051451cfb39ee48d952f6be629c74a3efee3b682b8270c0260752f74 tiny-f32.gguf Q4_0 --imatrix imatrix-dataset-nul.gguf
check 6a821391e7462693fe8bc0d14c669c9238b0206e6d81cd2085ce15496e0de464 tiny-f32.gguf Q4_0 --imatrix imatrix-empty-name-paired.gguf
check 3983d97448fab5d28f025cd611da12e19bc163e54b493942302765800557a897 tiny-f32.gguf Q4_0 --imatrix imatrix-legacy-short-trailer.dat
# Refused, as llama-quantize refuses them (it aborts on the last two).
"$CKPT" quantize -q $R/tiny-f32.gguf "$TMP/o.gguf" Q4_0 --imatrix imatrix-empty-name-unpaired.gguf 2>&1 | sed 's|.*\[|[|'
"$CKPT" quantize -q $R/expert-count-huge.gguf "$TMP/o.gguf" Q4_0 2>&1 | sed 's|.*\[|[|'
"$CKPT" quantize -q $R/ne0-40-f32.gguf "$TMP/o.gguf" F16 --output-tensor-type q4_0 2>&1 | sed 's|.*\[|[|'
"$CKPT" quantize $R/ne0-40-f32.gguf F16 --output-tensor-type q4_0 --dry-run 2>&1 | sed 's|.*\[|[|'
