"""tensorlint: static pitfall finder, deployment advisor and PyTorch<->Keras translator."""
