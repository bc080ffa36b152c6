$CKPT scan --json does-not-exist.pt
