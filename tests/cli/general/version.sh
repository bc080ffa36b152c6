$CKPT --version
