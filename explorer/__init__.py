"""Latent Explorer: train, load and look inside autoencoders."""

__version__ = "0.1.0"
