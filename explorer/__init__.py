"""Latent Explorer: train, load and look inside autoencoders."""

import os

# OpenMP threads that spin while waiting make a backward pass 20x slower as soon as another
# process (the Streamlit server, a browser, a second job) wants one of a laptop's few cores:
# 350 ms instead of 15 ms per MNIST step measured on 2 cores. Passive waiting costs nothing
# when the machine is idle. It must be set before torch loads OpenMP, hence here.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"


def __getattr__(name: str):
    # ``explorer.export`` without importing torch and onnx for every ``import explorer``
    if name == "export":
        from explorer.store.byo import export

        return export
    raise AttributeError(f"module 'explorer' has no attribute {name!r}")
