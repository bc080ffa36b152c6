printf '\x80\x02cmylib.helpers\nrun\n)R.' > $TMP/model.pt
cd $TMP && $CKPT scan --sarif out.sarif model.pt > /dev/null; echo "exit $?"; cat out.sarif
