$CKPT inspect --json pytorch/shared_storage.pt
