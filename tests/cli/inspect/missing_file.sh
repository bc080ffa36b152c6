$CKPT inspect no/such.safetensors
