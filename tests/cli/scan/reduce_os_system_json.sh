# protocol 2: GLOBAL os.system, REDUCE with ('true',): never executed, reported critical
printf '\x80\x02cos\nsystem\nX\x04\x00\x00\x00true\x85R.' > $TMP/evil.bin
cd $TMP && $CKPT scan --json evil.bin
