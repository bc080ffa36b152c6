$CKPT inspect pytorch/optimizer_state.pt
