from explorer.models.base import Autoencoder
from explorer.models.registry import MODELS, ModelSpec, build_model, model_config

__all__ = ["MODELS", "Autoencoder", "ModelSpec", "build_model", "model_config"]
