import base64
from pathlib import Path

import numpy as np
import pytest

from explorer.figures.live import decode_reference, decoder_program, run_program
from explorer.store.checkpoint import load_checkpoint

PRETRAINED = Path(__file__).resolve().parent.parent / "pretrained"
MLP = ["mnist-ae-2d", "mnist-ae-20d", "mnist-vae-2d", "mnist-vae-20d", "mnist-deep-ae-30d"]


@pytest.mark.parametrize("name", MLP)
def test_page_program_decodes_as_pytorch(name):
    model = load_checkpoint(PRETRAINED / name).model.eval()
    program = decoder_program(model)
    assert not isinstance(program, str), program
    z = np.random.default_rng(0).normal(size=(16, model.latent_dim)).astype(np.float32) * 2
    assert np.abs(run_program(program, z) - decode_reference(model, z)).max() < 1e-3
    page = program.to_page()
    first = page["layers"][0]
    weight = np.frombuffer(base64.b64decode(first["weight"]), "<f4")
    assert weight.size == first["n_in"] * first["n_out"] and first["n_in"] == model.latent_dim


def test_conv_decoder_names_the_server_path():
    model = load_checkpoint(PRETRAINED / "mnist-conv-vae-20d").model
    reason = decoder_program(model)
    assert isinstance(reason, str) and "server" in reason
