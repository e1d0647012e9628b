from explorer.models.base import Autoencoder
from explorer.models.registry import (
    MODELS,
    ModelSpec,
    build_model,
    max_parameters,
    model_config,
    model_spec,
    parameter_count,
)

__all__ = ["MODELS", "Autoencoder", "ModelSpec", "build_model", "max_parameters", "model_config",
           "model_spec", "parameter_count"]
