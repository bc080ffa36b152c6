mkdir -p $TMP/d/sub && printf '# hi\n' > $TMP/d/README.md && printf '\x80\x02cos\nsystem\n.' > $TMP/d/sub/x.pkl
cd $TMP && $CKPT scan d; echo "exit $?"; $CKPT scan -q --recursive d
