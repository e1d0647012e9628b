"""The Train page: pick data and a model, watch it learn, stop it, save it."""

from __future__ import annotations

import re
import time

import streamlit as st

from explorer import plots
from explorer.catalog import runs_dir
from explorer.checkpoint import save_checkpoint
from explorer.config import DataConfig, ModelConfig, TrainConfig
from explorer.data import SOURCES, Dataset, load_dataset
from explorer.data.uploads import load_image_files, load_upload_bytes
from explorer.device import list_devices
from explorer.errors import DataError
from explorer.jobs import TrainingJob
from explorer.metrics import evaluate
from explorer.models import MODELS, build_model, model_config
from explorer.ui.widgets import guarded

UPLOAD = "upload a file…"
UPLOAD_TYPES = ["npz", "npy", "csv", "zip", "png", "jpg", "jpeg", "bmp", "gif", "webp"]


def data_controls(prefix: str = "train", default: str | None = None) -> tuple[Dataset, DataConfig] | None:
    """Pick a built-in data set or upload one (widget keys start with ``prefix``)."""
    sources = [s for s in SOURCES if s != "mnist"] + ["mnist", UPLOAD]
    source = st.selectbox(
        "Data",
        sources,
        index=sources.index(default) if default in sources else 0,
        key=f"{prefix}_data",
        help="mnist needs the full files (--data-root or $LATENT_EXPLORER_DATA); "
        "mnist_sample ships with the app.",
    )
    if source != UPLOAD:
        cfg = DataConfig(source)
        return load_dataset(cfg), cfg
    files = st.file_uploader(
        "A .npz/.npy/.csv file, a .zip of images in class folders, or several images",
        type=UPLOAD_TYPES,
        accept_multiple_files=True,
        key=f"{prefix}_upload",
    )
    cols = st.columns(3)
    label_column = cols[0].text_input("CSV label column (optional)", key=f"{prefix}_label_col") or None
    image_size = int(cols[1].number_input("image side (px)", 8, 128, 28, key=f"{prefix}_img_size"))
    color = cols[2].radio("colour", ["grayscale", "rgb"], horizontal=True, key=f"{prefix}_img_color")
    if not files:
        st.info("Upload data to train on it. Arrays are loaded without pickle; images are resized.")
        return None
    cfg = DataConfig(
        "upload",
        path=files[0].name if len(files) == 1 else "images",
        label_column=label_column,
        image_size=image_size,
        color=color,
    )
    if len(files) == 1 and not files[0].name.lower().endswith(("png", "jpg", "jpeg", "bmp", "gif", "webp")):
        return load_upload_bytes(files[0].getvalue(), files[0].name, cfg), cfg
    return load_image_files([(f.name, f.getvalue()) for f in files], cfg), cfg


def model_controls(data: Dataset) -> tuple[ModelConfig, TrainConfig]:
    names = [n for n, spec in MODELS.items() if spec.fits(data.kind)]
    cols = st.columns(3)
    name = cols[0].selectbox(
        "Model",
        names,
        index=names.index("lstm_vae" if data.kind == "series" else "vae"),
        key="train_model",
    )
    cols[0].caption(MODELS[name].description)
    latent_dim = int(cols[1].number_input("latent size", 2, 256, 2, key="train_latent"))
    preset = MODELS[name].preset
    family_hidden = preset.get("hidden", ModelConfig().hidden)
    hidden_text = cols[2].text_input(
        "hidden widths", "", key="train_hidden",
        placeholder=",".join(map(str, family_hidden)) or "none (linear)",
        help="Comma-separated MLP widths; empty keeps the model family's own.",
    )
    try:
        hidden = tuple(int(v) for v in hidden_text.split(",") if v.strip()) if hidden_text.strip() else None
    except ValueError:
        raise DataError(
            f"Hidden widths must be comma-separated whole numbers, got {hidden_text!r}."
        ) from None
    cols = st.columns(4)
    epochs = int(cols[0].number_input("epochs", 1, 500, 20, key="train_epochs"))
    batch = int(cols[1].number_input("batch size", 8, 4096, 128, key="train_batch"))
    lr = float(cols[2].number_input("learning rate", 1e-5, 1.0, MODELS[name].lr, format="%.4f",
                                    key=f"train_lr_{name}"))
    beta = float(
        cols[3].number_input(
            "beta (KL weight)", 0.0, 100.0, float(preset.get("beta", 1.0)), key=f"train_beta_{name}",
            disabled=not MODELS[name].variational,
        )
    )
    cols = st.columns(2)
    schedule = cols[0].selectbox(
        "learning-rate schedule", ["constant", "one_cycle"], key="train_schedule",
        format_func={"constant": "constant", "one_cycle": "one cycle (warm up, then anneal)"}.get,
        help="One cycle warms up to the learning rate, then anneals it to almost zero: long runs "
             "end lower than at a constant rate.",
    )
    shift = int(cols[1].number_input(
        "random shift (pixels)", 0, 8, 0, key="train_shift", disabled=data.kind != "image",
        help="Move each training image by a fresh random whole-pixel offset of up to this many "
             "pixels: more varied training images, less overfitting on long runs.",
    ))
    devices = list_devices()
    device = st.selectbox(
        "Device",
        [d.id for d in devices],
        key="train_device",
        format_func=lambda i: next(d.label for d in devices if d.id == i),
    )
    likelihood = MODELS[name].preset.get("likelihood", data.likelihood)
    model_cfg = model_config(name, data.item_shape, latent_dim, hidden=hidden, likelihood=likelihood,
                             beta=beta if MODELS[name].variational else None)
    return model_cfg, TrainConfig(epochs=epochs, batch_size=batch, lr=lr, device=device,
                                  schedule=schedule, augment_shift=shift if data.kind == "image" else 0)


@guarded
def train_page() -> None:
    st.title("Train a model")
    job: TrainingJob | None = st.session_state.get("job")
    if job is None or job.snapshot().finished:
        chosen = data_controls()
        if chosen is None:
            return
        data, data_cfg = chosen
        st.caption(
            f"{data.name}: {len(data.x_train):,} training and {len(data.x_test):,} test items of "
            f"shape {data.item_shape} ({data.kind}, {data.likelihood} likelihood)."
        )
        model_cfg, train_cfg = model_controls(data)
        if st.button("Train", type="primary", key="train_go"):
            model = build_model(model_cfg)
            st.session_state["job"] = TrainingJob(model, data, train_cfg).start()
            st.session_state["job_data"] = (data, data_cfg)
            st.rerun()
    if st.session_state.get("job") is not None:
        progress_panel()


@st.fragment(run_every=0.7)
def progress_panel() -> None:
    job: TrainingJob = st.session_state["job"]
    s = job.snapshot()
    total = job.cfg.epochs
    done = (s.epoch - 1 + s.step / max(s.steps_per_epoch, 1)) / total if s.epoch else 0.0
    elapsed = time.time() - s.started
    st.progress(
        min(done, 1.0),
        text=f"{s.state} · epoch {s.epoch}/{total} · step {s.step}/{s.steps_per_epoch} · {elapsed:.0f} s",
    )
    if s.history.train:
        st.plotly_chart(
            plots.loss_curves(s.history.train, s.history.test), key="loss_curves", width="stretch"
        )
    if not s.finished:
        if st.button("Stop (keeps the weights so far)", key="train_stop"):
            job.stop()
        return
    if s.error:
        st.error(s.error, icon=":material/error:")
    save_panel(job)


def save_panel(job: TrainingJob) -> None:
    data, data_cfg = st.session_state["job_data"]
    metrics = evaluate(job.model, data)
    st.write({k: round(v, 3) for k, v in metrics.items()})
    default = f"{job.model.cfg.name}-{data.name}-{job.model.cfg.latent_dim}d"
    name = st.text_input("Save as", default, key="save_name")
    if st.button("Save to runs/", type="primary", key="save_go"):
        if not re.fullmatch(r"[A-Za-z0-9._-]{1,80}", name) or name.startswith("."):
            st.error("Use letters, digits, '.', '_' and '-' for the name (at most 80 characters).")
            return
        folder = save_checkpoint(
            runs_dir() / name, job.model, data_cfg, job.cfg, metrics, job.snapshot().history,
            dataset=data if data_cfg.name == "upload" else None,
        )
        st.success(f"Saved to {folder}. Open it on the Explore page.")
