"""The config dataclasses are the one validation of every option."""

import dataclasses
import math

import pytest

from explorer.checks import check_seed
from explorer.config import (
    DataConfig,
    ModelConfig,
    TrainConfig,
    from_dict,
    to_dict,
)
from explorer.errors import ConfigError, ModelConfigError
from explorer.projection import ProjectionConfig

BAD = [
    (DataConfig, "test_fraction", 0.0, r"test_fraction must be in \(0, 1\), got 0.0."),
    (DataConfig, "test_fraction", math.nan, "test_fraction must be in"),
    (DataConfig, "seed", -1, "seed must be between 0 and 4294967295, got -1."),
    (DataConfig, "seed", 2**32, "seed must be between 0 and 4294967295"),
    (DataConfig, "max_samples", 0, "max_samples must be between 1 and"),
    (DataConfig, "image_size", 60000, "image_size must be between 2 and 512, got 60000."),
    (DataConfig, "color", "cmyk", "color must be one of grayscale, rgb, got 'cmyk'."),
    (DataConfig, "name", "", "name must be a non-empty string"),
    (ModelConfig, "latent_dim", True, "latent_dim must be a whole number between 2 and 256, got True."),
    (ModelConfig, "latent_dim", 2.0, "latent_dim must be a whole number"),
    (ModelConfig, "latent_dim", 10**9, "latent_dim must be between 2 and 256"),
    (ModelConfig, "hidden", (16, 0), "hidden entries must be between 1 and 16384, got 0."),
    (ModelConfig, "hidden", "16", "hidden must be a list of whole numbers"),
    (ModelConfig, "hidden", (4,) * 17, "hidden must be 0 to 16 whole numbers"),
    (ModelConfig, "channels", (10**9,), "channels entries must be between 1 and 16384"),
    (ModelConfig, "input_shape", (), "input_shape must be 1 to 3 whole numbers"),
    (ModelConfig, "input_shape", (4096, 4096, 8), "input_shape must be at most 67,108,864 numbers"),
    (ModelConfig, "dropout", 2.0, r"dropout must be in \[0, 1\), got 2.0."),
    (ModelConfig, "dropout", 1, r"dropout must be in \[0, 1\), got 1.0."),
    (ModelConfig, "beta", -1.0, "beta must be in"),
    (ModelConfig, "beta", math.inf, "beta must be in"),
    (ModelConfig, "beta", "4", "beta must be a number"),
    (ModelConfig, "noise_level", -0.1, "noise_level must be in"),
    (ModelConfig, "sparsity_target", 1.0, "sparsity_target must be in"),
    (ModelConfig, "contractive_weight", -1.0, "contractive_weight must be in"),
    (ModelConfig, "activation", "swish", "activation must be one of relu"),
    (TrainConfig, "epochs", 0, "epochs must be between 1 and 100000, got 0."),
    (TrainConfig, "batch_size", False, "batch_size must be a whole number"),
    (TrainConfig, "lr", 0.0, r"lr must be in \(0, 10\], got 0.0."),
    (TrainConfig, "lr", math.nan, "lr must be in"),
    (TrainConfig, "weight_decay", -1.0, "weight_decay must be in"),
    (TrainConfig, "grad_clip", 0.0, "grad_clip must be in"),
    (TrainConfig, "validation_fraction", 1.5, r"validation_fraction must be in \[0, 1\), got 1.5."),
    (TrainConfig, "early_stopping_patience", -1, "early_stopping_patience must be between 0"),
    (TrainConfig, "eval_every", 0, "eval_every must be between 1"),
    (TrainConfig, "augment_shift", 9, "augment_shift must be between 0 and 8, got 9."),
    (TrainConfig, "schedule", "cosine", "schedule must be one of constant, one_cycle"),
    (ProjectionConfig, "n_components", 4, "n_components must be between 2 and 3, got 4."),
    (ProjectionConfig, "n_neighbors", 1, "n_neighbors must be between 2 and 200"),
    (ProjectionConfig, "min_dist", 1.5, r"min_dist must be in \[0, 1\]"),
    (ProjectionConfig, "perplexity", 0.0, r"perplexity must be in \(0, 1000\]"),
    (ProjectionConfig, "method", "lda", "method must be one of raw, pca"),
]


@pytest.mark.parametrize(("cls", "option", "value", "message"), BAD,
                         ids=[f"{c.__name__}.{o}={v!r}" for c, o, v, _ in BAD])
def test_every_option_is_checked_with_its_range(cls, option, value, message):
    with pytest.raises(ConfigError, match=message):
        cls(**{option: value})


def test_a_model_option_is_a_model_config_error():
    with pytest.raises(ModelConfigError):
        ModelConfig(dropout=2.0)
    with pytest.raises(ModelConfigError, match="noise_level must be in \\[0, 1\\]"):
        ModelConfig(noise="masking", noise_level=2.0)  # a share of pixels
    assert ModelConfig(noise="gaussian", noise_level=2.0).noise_level == 2.0  # a std


@pytest.mark.parametrize("cls", [DataConfig, ModelConfig, TrainConfig, ProjectionConfig])
def test_defaults_are_valid_and_survive_a_json_round_trip(cls):
    cfg = cls()
    assert from_dict(cls, to_dict(cfg)) == cfg
    assert dataclasses.replace(cfg) == cfg


def test_values_are_normalized_so_configs_stay_hashable_cache_keys():
    cfg = ModelConfig(hidden=[16, 8], input_shape=[1, 8, 8], beta=4)
    assert cfg.hidden == (16, 8) and cfg.input_shape == (1, 8, 8)
    assert isinstance(cfg.beta, float) and hash(cfg) == hash(ModelConfig(hidden=(16, 8), beta=4.0))


def test_from_dict_needs_an_object():
    with pytest.raises(ConfigError, match="a ModelConfig must be a JSON object"):
        from_dict(ModelConfig, "vae")


def test_a_validation_split_must_leave_training_items():
    assert TrainConfig(validation_fraction=0.1).validation_items(100) == 10
    assert TrainConfig(validation_fraction=0.001).validation_items(100) == 1  # at least one
    assert TrainConfig().validation_items(3) == 0
    with pytest.raises(ConfigError, match="validation_fraction 0.99 of 10 training items leaves none"):
        TrainConfig(validation_fraction=0.99).validation_items(10)


def test_seeds_without_a_config_share_the_range():
    assert check_seed(2**32 - 1) == 2**32 - 1
    with pytest.raises(ConfigError, match="seed must be between 0 and 4294967295, got -1."):
        check_seed(-1)


def test_env_limits_take_whole_numbers_of_at_least_one(monkeypatch):
    from explorer.checks import env_limit

    monkeypatch.delenv("LE_TEST_LIMIT", raising=False)
    assert env_limit("LE_TEST_LIMIT", 7, "bytes") == 7
    for given, expected in ((" ", 7), ("12", 12), ("1", 1)):
        monkeypatch.setenv("LE_TEST_LIMIT", given)
        assert env_limit("LE_TEST_LIMIT", 7, "bytes") == expected
    for bad in ("0", "-3", "1.5", "lots"):
        monkeypatch.setenv("LE_TEST_LIMIT", bad)
        with pytest.raises(ConfigError, match=f"LE_TEST_LIMIT must be a whole number of bytes .*{bad!r}"):
            env_limit("LE_TEST_LIMIT", 7, "bytes")
