# Every malicious fixture through inspect, convert and scan: nothing runs (the
# payloads would touch /tmp/ckpt_scan_marker), nothing crashes, scan exits 1.
rm -f /tmp/ckpt_scan_marker
for f in $(find scan/malicious scan/review -type f ! -name "*.json" ! -name "*.md" | sort); do
  $CKPT inspect "$f" >/dev/null 2>&1; a=$?
  $CKPT convert "$f" $TMP/out.safetensors >/dev/null 2>&1; b=$?
  $CKPT scan "$f" >/dev/null 2>&1; c=$?
  for code in $a $b; do [ $code -le 2 ] || echo "$f: signal/exit $code"; done
  [ $c = 1 ] || echo "$f: scan exit $c"
done
if [ -e /tmp/ckpt_scan_marker ]; then echo "marker created"; else echo "nothing ran"; fi
