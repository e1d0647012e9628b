"""The beta scrubber: one model trained on the same data with the same seed at several KL
weights beta, from 0 (a plain autoencoder with a noisy code) to 4, read as a family whose maps
are turned onto each other so that moving beta shows only what beta changes.

A family is a folder of checkpoints of one variational model whose configs differ only in
``beta`` (the zoo ships ``pretrained/mnist-beta-2d``), each with its stored codes of the shown
data (``codes.npz``); ``family.json`` beside them holds the measures of every member, so the
page opens from files alone."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from explorer.apps.likelihood import ACTIVE_THRESHOLD, usage_of_posteriors
from explorer.apps.regularity import RegularityReport, regularity_report
from explorer.config import DataConfig
from explorer.data import Dataset, load_dataset
from explorer.errors import CheckpointError
from explorer.models import Autoencoder
from explorer.store.catalog import CODES_FILE
from explorer.store.checkpoint import load_checkpoint, read_config
from explorer.store.io import atomic_write_bytes

BETA_FAMILY_DIR = "mnist-beta-2d"  # under pretrained/; its members are not listed one by one
FAMILY_BETAS = (0.0, 0.1, 0.5, 1.0, 4.0)
FAMILY_FILE = "family.json"
MAX_FAMILY_BYTES = 2**20  # a few hundred bytes a member: anything larger is not ours


@dataclass(frozen=True)
class FamilyMember:
    beta: float
    folder: Path
    codes: np.ndarray  # (items, latent_dim) posterior means of the shown data's test items
    logvar: np.ndarray | None  # (items, latent_dim) their posterior log-variances


@dataclass(frozen=True)
class MemberReport:
    """What beta does to one member, on the shown data (codes and judge) and the full test set
    (``recon_sse``, ``neg_elbo``, ``kl`` from its model card)."""

    beta: float
    recon_sse: float  # summed squared error per test item
    recon_nll: float  # the loss's reconstruction term, nats per item: what a higher beta costs
    neg_elbo: float  # at beta 1, whatever beta the model was trained with
    kl: float  # nats per item from the posterior to N(0, I)
    prior_gap: float  # KL from the aggregate posterior's moment-matched Gaussian to N(0, I)
    active_units: int  # dimensions whose posterior mean varies over the data (Burda et al.)
    regularity: RegularityReport

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> MemberReport:
        return cls(**{**values, "regularity": RegularityReport(**values["regularity"])})


def _member_beta(config: dict, folder: Path) -> tuple[float, dict]:
    model = config.get("model", {})
    if not model.get("name") or "beta" not in model:
        raise CheckpointError(f"{folder} is not a model with a KL weight beta")
    return float(model["beta"]), {k: v for k, v in model.items() if k != "beta"}


def read_family(folder: str | Path) -> list[FamilyMember]:
    """The family's members by rising beta, from their configs and stored codes (no weights
    are read). Refuses a folder whose members differ in more than beta, or hold no codes."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"no model family at {folder}")
    members, shared = [], None
    for path in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        beta, rest = _member_beta(read_config(path), path)
        if shared is None:
            shared = rest
        elif rest != shared:
            raise CheckpointError(f"{path} differs from the rest of the family in more than beta")
        codes_path = path / CODES_FILE
        if not codes_path.is_file():
            raise CheckpointError(f"{path} has no stored codes ({CODES_FILE}) to draw its map from")
        with np.load(codes_path, allow_pickle=False) as f:
            codes = f["z"].astype(np.float32)
            logvar = f["logvar"].astype(np.float32) if "logvar" in f.files else None
        members.append(FamilyMember(beta, path, codes, logvar))
    if len(members) < 2:
        raise CheckpointError(f"{folder} holds {len(members)} model(s); a family needs two or more")
    if len({m.codes.shape for m in members}) > 1:
        raise CheckpointError(f"the members in {folder} store codes of different data")
    if len({m.beta for m in members}) < len(members):
        raise CheckpointError(f"two members in {folder} share a beta")
    return sorted(members, key=lambda m: m.beta)


def reference_member(members: list[FamilyMember]) -> int:
    """The member the others are turned onto: the one nearest the textbook VAE, beta 1."""
    return int(np.argmin([abs(np.log(max(m.beta, 1e-3))) for m in members]))


def procrustes_rotations(codes: list[np.ndarray], reference: int) -> list[np.ndarray]:
    """For each map, the rotation or reflection R (orthogonal, about the origin) that best
    lays ``codes[i] @ R`` over ``codes[reference]``. No shift and no scaling: N(0, I) looks the
    same after any such R, so the prior stays where it is, and each map keeps its own spread,
    which is what beta changes."""
    from scipy.linalg import orthogonal_procrustes

    target = codes[reference].astype(np.float64)
    return [orthogonal_procrustes(c.astype(np.float64), target)[0] for c in codes]


def aligned_maps(members: list[FamilyMember]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Each member's codes turned onto the reference member's, and the rotations used."""
    rotations = procrustes_rotations([m.codes for m in members], reference_member(members))
    return [(m.codes @ r).astype(np.float32) for m, r in zip(members, rotations)], rotations


def prior_gap(mu: np.ndarray, logvar: np.ndarray | None) -> float:
    """KL(N(m, S) || N(0, I)) for the Gaussian with the aggregate posterior's mean and
    covariance (the covariance of the means plus the mean posterior variance): 0 when the
    codes as a whole are spread like the prior. It does not see gaps inside the spread."""
    mu = mu.astype(np.float64)
    cov = np.atleast_2d(np.cov(mu, rowvar=False))
    if logvar is not None:
        cov = cov + np.diag(np.exp(logvar.astype(np.float64)).mean(axis=0))
    mean = mu.mean(axis=0)
    _, logdet = np.linalg.slogdet(cov)
    return float(0.5 * (np.trace(cov) + mean @ mean - len(mean) - logdet))


def measure_member(member: FamilyMember, model: Autoencoder, metrics: dict[str, float], judge=None,
                   labels: np.ndarray | None = None, seed: int = 0) -> MemberReport:
    """``MemberReport`` of one member; ``judge`` and ``labels`` as for ``regularity_report``."""
    logvar = member.logvar
    usage = (usage_of_posteriors(member.codes, logvar).n_active if logvar is not None
             else int((member.codes.var(axis=0) > ACTIVE_THRESHOLD).sum()))
    return MemberReport(
        beta=member.beta, recon_sse=float(metrics["recon_sse"]),
        recon_nll=float(metrics.get("recon_nll", float("nan"))),
        neg_elbo=float(metrics.get("neg_elbo", float("nan"))), kl=float(metrics.get("kl", 0.0)),
        prior_gap=prior_gap(member.codes, logvar), active_units=usage,
        regularity=regularity_report(model, member.codes, logvar, seed=seed, judge=judge,
                                     labels=labels))


def write_family_report(folder: str | Path, reports: list[MemberReport]) -> Path:
    payload = {"members": [r.as_dict() for r in reports]}
    return atomic_write_bytes(Path(folder) / FAMILY_FILE, json.dumps(payload, indent=1).encode())


def read_family_report(folder: str | Path, members: list[FamilyMember]) -> list[MemberReport] | None:
    """The stored measures of ``members``, or None where the folder has none (measure them
    then). Refuses measures of other members than the folder holds."""
    path = Path(folder) / FAMILY_FILE
    if not path.is_file():
        return None
    if path.stat().st_size > MAX_FAMILY_BYTES:
        raise CheckpointError(f"{path} is too large to be a family's measures")
    try:
        reports = [MemberReport.from_dict(r) for r in json.loads(path.read_text())["members"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{path} is not a family's measures: {exc}") from exc
    if [r.beta for r in reports] != [m.beta for m in members]:
        raise CheckpointError(f"{path} measures other members than the folder holds; measure them "
                              "again (python -m explorer beta FOLDER --measure)")
    return reports


def measure_family(members: list[FamilyMember], seed: int = 0) -> list[MemberReport]:
    """``measure_member`` of every member, with its weights and model card read from its
    folder, judged as the app judges (a classifier of the shown data's items; none without
    labels)."""
    from explorer.apps.regularity import fit_judge

    data = shown_data(members)
    judge = None if data.y_train is None else fit_judge(data.x_train.numpy(), data.y_train.numpy(),
                                                        seed=seed)
    labels = None if data.y_test is None else data.y_test.numpy()
    reports = []
    for member in members:
        checkpoint = load_checkpoint(member.folder)
        reports.append(measure_member(member, checkpoint.model, checkpoint.metrics, judge, labels, seed))
    return reports


def shown_data_config(members: list[FamilyMember]) -> DataConfig:
    """The data whose test items the members' stored codes encode (for shipped models the
    4,000-image MNIST sample, which needs no download)."""
    config = read_config(members[0].folder)
    return DataConfig(config.get("display_data", config["data"]["name"]))


def shown_data(members: list[FamilyMember]) -> Dataset:
    data = load_dataset(shown_data_config(members))
    if len(data.x_test) != len(members[0].codes):
        raise CheckpointError(f"{members[0].folder}'s stored codes are not of {data.name}'s test items")
    return data
