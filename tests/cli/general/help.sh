$CKPT convert --help
