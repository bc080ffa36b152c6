$CKPT scan pytorch/legacy_tar.pt pytorch/legacy_stacked.pt pytorch/big_endian.pt
