import pytest
import torch

from explorer.config import ModelConfig
from explorer.errors import ModelConfigError
from explorer.models import MODELS, build_model, model_config

IMAGE_SHAPES = [(1, 8, 8), (1, 28, 28), (3, 13, 11)]
SERIES_SHAPES = [(32, 1), (20, 3)]
CASES = [
    (name, shape)
    for name, spec in MODELS.items()
    for shape in (IMAGE_SHAPES if spec.fits("image") else SERIES_SHAPES)
]


@pytest.mark.parametrize(("name", "shape"), CASES)
def test_every_model_keeps_the_interface(name, shape):
    cfg = model_config(name, shape, 3)
    model = build_model(cfg)
    x = torch.rand(4, *shape)
    z = model.encode(x)
    assert z.shape == (4, 3)
    x_hat = model.decode(z)
    assert x_hat.shape == x.shape
    if cfg.likelihood == "bernoulli":  # Bernoulli models decode to intensities
        assert x_hat.min() >= 0.0 and x_hat.max() <= 1.0
    terms = model.loss(x)
    assert "total" in terms and "recon" in terms and torch.isfinite(terms["total"])
    assert ("kl" in terms) == MODELS[name].variational
    mu, logvar = model.posterior(x)
    assert (logvar is not None) == MODELS[name].variational


def test_gaussian_likelihood_decodes_unbounded_values():
    model = build_model(ModelConfig(name="vae", input_shape=(5,), latent_dim=2, likelihood="gaussian"))
    with torch.no_grad():
        model.decoder.net[-1].bias.fill_(-3.0)
    assert model.decode(torch.zeros(1, 2)).max() < 0  # no sigmoid squashing


def test_vae_encode_is_the_posterior_mean_and_deterministic():
    model = build_model(ModelConfig(name="vae", input_shape=(1, 8, 8), latent_dim=2)).eval()
    x = torch.rand(6, 1, 8, 8)
    assert torch.equal(model.encode(x), model.encode(x))
    assert torch.equal(model.encode(x), model.posterior(x)[0])


@pytest.mark.parametrize("latent_dim", [0, 1, 257])
def test_latent_size_out_of_range_is_refused(latent_dim):
    with pytest.raises(ModelConfigError, match="latent_dim must be between 2 and 256"):
        build_model(ModelConfig(name="ae", input_shape=(4,), latent_dim=latent_dim))


def test_unknown_model_names_the_choices():
    with pytest.raises(ModelConfigError, match="Unknown model 'nope'.*vae"):
        build_model(ModelConfig(name="nope"))


def test_conv_model_on_tabular_data_says_to_use_mlp():
    with pytest.raises(ModelConfigError, match="Pick an MLP model"):
        build_model(ModelConfig(name="conv_vae", input_shape=(13,)))


def test_wrong_input_shape_is_reported():
    model = build_model(ModelConfig(name="ae", input_shape=(1, 8, 8)))
    with pytest.raises(ModelConfigError, match=r"expects items of shape \(1, 8, 8\)"):
        model.check_input(torch.rand(2, 1, 28, 28))


@pytest.mark.parametrize(("name", "shape"), CASES)
@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_parameter_count_is_exact_without_building(name, shape, likelihood):
    from explorer.models import parameter_count

    if name == "rbm" and likelihood == "gaussian":
        pytest.skip("an RBM is Bernoulli only")
    cfg = model_config(name, shape, 3, likelihood=likelihood)
    assert parameter_count(cfg) == sum(p.numel() for p in build_model(cfg).parameters())


def test_models_over_the_size_limit_are_refused_before_allocating(monkeypatch):
    from explorer.models import parameter_count

    huge = model_config("ae", (1, 28, 28), 2, hidden=(16384, 16384, 16384))
    assert parameter_count(huge) > 200_000_000
    with pytest.raises(ModelConfigError, match="the limit is 200,000,000.*LATENT_EXPLORER_MAX_PARAMS"):
        build_model(huge)
    small = model_config("ae", (1, 8, 8), 2, hidden=(32,))
    monkeypatch.setenv("LATENT_EXPLORER_MAX_PARAMS", str(parameter_count(small)))
    build_model(small)  # exactly at the limit
    monkeypatch.setenv("LATENT_EXPLORER_MAX_PARAMS", str(parameter_count(small) - 1))
    with pytest.raises(ModelConfigError, match=f"the limit is {parameter_count(small) - 1:,}"):
        build_model(small)
    monkeypatch.setenv("LATENT_EXPLORER_MAX_PARAMS", "lots")
    with pytest.raises(ModelConfigError, match="LATENT_EXPLORER_MAX_PARAMS must be a whole number"):
        build_model(small)
