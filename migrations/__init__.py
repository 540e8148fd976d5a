"""The middle floor: the PyTorch<->Keras catalog, translation, porting rules (XF) and runtime verification."""
