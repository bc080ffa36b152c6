printf '\x80\x02}q\x00(X\x01\x00\x00\x00' > $TMP/t.pkl
cd $TMP && $CKPT scan t.pkl
