"""What the explorer does with a trained model, one module per application: anomaly
detection (``anomaly`` with ``detection``'s ROC), denoising, latent arithmetic, few-label
fine-tuning, neighbours, interpolation paths, the decoder's local stretch, samplers beside the
prior, the regularity numbers, the importance-sampled likelihood, the beta family, and the
reconstruction metrics the evaluate command and the compare page report."""
