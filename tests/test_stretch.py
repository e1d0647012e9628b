import numpy as np
import pytest
import torch

from explorer.apps.stretch import Plane, seam_report, stretch, stretch_grid
from explorer.store.checkpoint import load_checkpoint


@pytest.fixture(scope="module")
def model():
    return load_checkpoint("pretrained/mnist-vae-20d").model


def _finite_difference_stretch(model, plane: Plane, p: np.ndarray, h: float = 1e-3) -> np.ndarray:
    def decoded(q):
        with torch.no_grad():
            return model.decode(torch.from_numpy(plane.codes(q))).flatten(1).double().numpy()

    a = (decoded(p + [h, 0]) - decoded(p - [h, 0])) / (2 * h)
    b = (decoded(p + [0, h]) - decoded(p - [0, h])) / (2 * h)
    gram = (a * a).sum(1) * (b * b).sum(1) - (a * b).sum(1) ** 2
    return np.sqrt(gram)


def test_stretch_is_the_area_magnification_of_the_decoder_on_the_plane(model):
    rng = np.random.default_rng(0)
    z = rng.normal(size=(3, 20)).astype(np.float32)
    plane = Plane.through(*z)
    p = rng.normal(size=(16, 2)).astype(np.float32)
    np.testing.assert_allclose(stretch(model, plane, p), _finite_difference_stretch(model, plane, p),
                               rtol=2e-2)


def test_a_plane_through_three_codes_holds_them_with_orthonormal_directions():
    z = np.random.default_rng(1).normal(size=(3, 5)).astype(np.float32)
    plane = Plane.through(*z)
    np.testing.assert_allclose(plane.directions @ plane.directions.T, np.eye(2), atol=1e-6)
    for code in z:  # each code is on the plane: its coordinates map back to it
        np.testing.assert_allclose(plane.codes((code - plane.origin) @ plane.directions.T), code, atol=1e-5)
    with pytest.raises(ValueError, match="one line"):
        Plane.through(z[0], z[1], 2 * z[1] - z[0])


def test_scaling_the_plane_scales_the_stretch_by_the_area(model):
    z = np.random.default_rng(2).normal(size=(3, 20)).astype(np.float32)
    plane = Plane.through(*z)
    doubled = Plane(plane.origin, 2 * plane.directions)
    p = np.random.default_rng(3).normal(size=(8, 2)).astype(np.float32)
    np.testing.assert_allclose(stretch(model, doubled, p / 2), 4 * stretch(model, plane, p), rtol=1e-3)


def test_grid_and_seam_report_cover_the_map(model):
    points = np.random.default_rng(4).normal(size=(200, 2)).astype(np.float32)
    labels = (points[:, 0] > 0).astype(int)
    plane = Plane.through(*np.random.default_rng(5).normal(size=(3, 20)).astype(np.float32))
    grid = stretch_grid(model, plane, points, resolution=12)
    assert grid.values.shape == (12, 12) and (grid.values >= 0).all()
    assert grid.x[0] < points[:, 0].min() and grid.x[-1] > points[:, 0].max()
    report = seam_report(model, plane, points, labels, n_codes=100)
    assert report.ratio == pytest.approx(report.between / report.inside)
    with pytest.raises(ValueError, match="two classes"):
        seam_report(model, plane, points, np.zeros(200, int))


def test_stretch_command_reports_the_shipped_models_seams(capsys):
    import json

    from explorer.cli import main

    assert main(["stretch", "pretrained/mnist-ae-2d", "--data", "mnist_sample", "--resolution", "20",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["plane"] == "latent"
    assert report["seam_ratio"] == pytest.approx(report["stretch_between_classes"]
                                                 / report["stretch_inside_classes"])
    # A plain AE's decoder flattens out in the empty space far from its codes.
    assert report["stretch_far_from_codes"] < report["stretch_near_codes"]
