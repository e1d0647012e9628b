"""The Train page: pick data and a model, watch it learn, stop it, save it."""

from __future__ import annotations

import re

import streamlit as st

from explorer.apps.metrics import evaluate
from explorer.config import DataConfig, ModelConfig, TrainConfig
from explorer.data import SOURCES, Dataset, load_dataset
from explorer.data.uploads import load_image_files, load_upload_bytes
from explorer.device import list_devices
from explorer.errors import ExplorerError, ModelConfigError
from explorer.figures import charts
from explorer.models import MODELS, build_model, model_config
from explorer.store.catalog import runs_dir
from explorer.store.checkpoint import save_checkpoint
from explorer.training.jobs import TrainingJob
from explorer.training.timeline import TIMELINE_ITEMS
from explorer.ui.codes_upload import codes_upload_panel
from explorer.ui.timeline_page import timeline_figure, timeline_panel
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


def bounded(col, label: str, lo: float, hi: float, value: float, key: str, problems: list[str],
            **options) -> float:
    """A number box that says when its value is out of range. Streamlit's own min/max only
    turn the box red and keep the last valid value, so Train would silently use that."""
    number = col.number_input(label, value=value, key=key, **options)
    if not lo <= number <= hi:
        problems.append(f"{label} must be between {lo:g} and {hi:g}; it is {number:g}.")
    return number


def parse_hidden(text: str) -> tuple[int, ...] | None:
    """MLP widths from "256,128"; None (the family's own) when empty."""
    if not text.strip():
        return None
    try:
        hidden = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise ModelConfigError(
            f"Hidden widths must be comma-separated whole numbers, got {text!r}.") from None
    if any(width < 1 for width in hidden):
        raise ModelConfigError("Hidden widths must be at least 1 (a layer of 0 units passes nothing on), "
                               f"got {text!r}.")
    return hidden


def model_controls(data: Dataset) -> tuple[ModelConfig, TrainConfig] | None:
    """The model and training settings, or None (with the reasons on the page) when some are
    invalid."""
    problems: list[str] = []
    names = [n for n, spec in MODELS.items() if spec.fits(data.kind)]
    cols = st.columns(3)
    name = cols[0].selectbox(
        "Model",
        names,
        index=names.index("lstm_vae" if data.kind == "series" else "vae"),
        key="train_model",
    )
    cols[0].caption(MODELS[name].description)
    latent_dim = int(bounded(cols[1], "latent size", 2, 256, 2, "train_latent", problems))
    preset = MODELS[name].preset
    family_hidden = preset.get("hidden", ModelConfig().hidden)
    hidden_text = cols[2].text_input(
        "hidden widths", "", key="train_hidden",
        placeholder=",".join(map(str, family_hidden)) or "none (linear)",
        help="Comma-separated MLP widths; empty keeps the model family's own.",
    )
    try:
        hidden = parse_hidden(hidden_text)
    except ModelConfigError as exc:
        problems.append(str(exc))
        hidden = None
    cols = st.columns(4)
    epochs = int(bounded(cols[0], "epochs", 1, 500, 20, "train_epochs", problems))
    batch = int(bounded(cols[1], "batch size", 8, 4096, 128, "train_batch", problems))
    lr = float(bounded(cols[2], "learning rate", 1e-5, 1.0, MODELS[name].lr, f"train_lr_{name}", problems,
                       format="%.4f"))
    beta = float(bounded(cols[3], "beta (KL weight)", 0.0, 100.0, float(preset.get("beta", 1.0)),
                         f"train_beta_{name}", problems, disabled=not MODELS[name].variational))
    cols = st.columns(2)
    schedule = cols[0].selectbox(
        "learning-rate schedule", ["constant", "one_cycle"], key="train_schedule",
        format_func={"constant": "constant", "one_cycle": "one cycle (warm up, then anneal)"}.get,
        help="One cycle warms up to the learning rate, then anneals it to almost zero: long runs "
             "end lower than at a constant rate.",
    )
    shift = int(bounded(
        cols[1], "random shift (pixels)", 0, 8, 0, "train_shift", problems, disabled=data.kind != "image",
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
    if problems:
        st.error(" ".join(problems), icon=":material/error:")
        return None
    likelihood = MODELS[name].preset.get("likelihood", data.likelihood)
    model_cfg = model_config(name, data.item_shape, latent_dim, hidden=hidden, likelihood=likelihood,
                             beta=beta if MODELS[name].variational else None)
    return model_cfg, TrainConfig(epochs=epochs, batch_size=batch, lr=lr, device=device,
                                  schedule=schedule, augment_shift=shift if data.kind == "image" else 0)


@guarded
def train_page() -> None:
    st.title("Train a model")
    codes_upload_panel()
    job: TrainingJob | None = st.session_state.get("job")
    running = job is not None and not job.snapshot().finished
    # The form stays on the page during a run: Streamlit forgets the values of widgets it does
    # not draw, and a finished run's results must sit under the settings that produced them.
    chosen = data_controls()
    if chosen is None:
        return
    data, data_cfg = chosen
    st.caption(
        f"{data.name}: {len(data.x_train):,} training and {len(data.x_test):,} test items of "
        f"shape {data.item_shape} ({data.kind}, {data.likelihood} likelihood)."
    )
    settings = model_controls(data)
    record = st.toggle(
        f"record a timeline (the codes of {min(TIMELINE_ITEMS, len(data.x_test))} test items after every "
        "epoch)", key="train_timeline",
        help="Saved with the model; replay the map forming on the Timeline page. Encoding the items "
             "once per epoch costs little and does not change the training.")
    if st.button("Train", type="primary", key="train_go", disabled=running or settings is None,
                 help="Stop the current run to start another." if running else None):
        model_cfg, train_cfg = settings
        model = build_model(model_cfg)
        st.session_state["job"] = TrainingJob(model, data, train_cfg, timeline=record).start()
        st.session_state["job_data"] = (data, data_cfg)
        st.session_state.pop("save_outcome", None)
        st.rerun()
    if job is None:
        return
    if running:
        live_progress()
    else:
        finished_panel(job)


def progress_bar(job: TrainingJob) -> None:
    s = job.snapshot()
    total = job.cfg.epochs
    done = (s.epoch - 1 + s.step / max(s.steps_per_epoch, 1)) / total if s.epoch else 0.0
    st.progress(
        min(done, 1.0),
        text=f"{s.state} · epoch {s.epoch}/{total} · step {s.step}/{s.steps_per_epoch} · {s.elapsed:.0f} s",
    )
    if s.history.train:
        st.plotly_chart(
            charts.loss_curves(s.history.train, s.history.test), key="loss_curves", width="stretch"
        )


@st.fragment(run_every=0.7)
def live_progress() -> None:
    """Redrawn every 0.7 s while the run lasts, and not after: a panel that keeps refreshing
    wipes its own messages and recomputes its results forever."""
    job: TrainingJob = st.session_state["job"]
    if job.snapshot().finished:
        st.rerun()  # the whole page, once, to draw the finished run without the timer
    progress_bar(job)
    if st.button("Stop (keeps the weights so far)", key="train_stop"):
        job.stop()


def run_summary(job: TrainingJob, data_name: str) -> str:
    s = job.snapshot()
    return (f"This run: {job.model.cfg.name} with a {job.model.cfg.latent_dim}-D code on {data_name}, "
            f"{s.history.epochs_run} of {job.cfg.epochs} epochs ({s.state}), batch {job.cfg.batch_size}, "
            f"learning rate {job.cfg.lr:g}.")


def finished_panel(job: TrainingJob) -> None:
    s = job.snapshot()
    data, _ = st.session_state["job_data"]
    st.subheader("Result")
    st.caption(run_summary(job, data.name))
    progress_bar(job)
    if s.error:
        st.error(s.error, icon=":material/error:")
    if job.timeline is not None:
        st.subheader("Timeline")
        timeline_panel(timeline_figure(job.timeline, s.history), job.timeline, key="train_timeline_map")
    save_panel(job)


def job_metrics(job: TrainingJob, data: Dataset) -> dict[str, float]:
    """The finished run's test metrics, computed once per run (not on every rerun)."""
    cached = st.session_state.get("job_metrics")
    if cached is None or cached[0] is not job:
        cached = (job, evaluate(job.model, data))
        st.session_state["job_metrics"] = cached
    return cached[1]


def save_panel(job: TrainingJob) -> None:
    data, data_cfg = st.session_state["job_data"]
    metrics = job_metrics(job, data)
    st.write({k: round(v, 3) for k, v in metrics.items()})
    default = f"{job.model.cfg.name}-{data.name}-{job.model.cfg.latent_dim}d"
    name = st.text_input("Save as", default, key="save_name")
    if st.button("Save to runs/", type="primary", key="save_go"):
        st.session_state["save_outcome"] = None
        if not re.fullmatch(r"[A-Za-z0-9._-]{1,80}", name) or name.startswith("."):
            st.session_state["save_outcome"] = (
                "error", "Use letters, digits, '.', '_' and '-' for the name (at most 80 characters).")
        elif (runs_dir() / name / "config.json").is_file():
            st.session_state["save_outcome"] = ("confirm", name)
        else:
            save(job, name, metrics)
    outcome = st.session_state.get("save_outcome")
    if outcome is None:
        return
    kind, text = outcome
    if kind == "confirm":
        st.warning(f"A model named {text} exists in runs/. Replace it with this run?",
                   icon=":material/warning:")
        cols = st.columns([1, 1, 4])
        if cols[0].button("Replace", key="save_replace", type="primary"):
            save(job, text, metrics, overwrite=True)
            st.rerun()
        if cols[1].button("Cancel", key="save_cancel"):
            st.session_state["save_outcome"] = None
            st.rerun()
    elif kind == "error":
        st.error(text, icon=":material/error:")
    else:
        st.success(text, icon=":material/check_circle:")


def save(job: TrainingJob, name: str, metrics: dict[str, float], overwrite: bool = False) -> None:
    """Save the run as ``runs/name``; the outcome stays on the page (in the session) until the
    next save or run. ``overwrite`` only after the user confirmed replacing a model of that
    name; an upload's data is stored with the model, which may outlive the file."""
    data, data_cfg = st.session_state["job_data"]
    try:
        folder = save_checkpoint(runs_dir() / name, job.model, data_cfg, job.cfg, metrics,
                                 job.snapshot().history, overwrite=overwrite,
                                 dataset=data if data_cfg.name == "upload" else None,
                                 timeline=job.timeline)
    except ExplorerError as exc:
        st.session_state["save_outcome"] = ("error", str(exc))
        return
    st.session_state["save_outcome"] = ("success", f"Saved to {folder}. Open it on the Explore page.")
