$CKPT scan pytorch/module_state_dict.pt numpy/stored.npz
