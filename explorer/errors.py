"""Exceptions with messages written for the person at the keyboard.

The UI shows ``str(error)`` with ``st.error``; the CLI prints it on one line and exits 2.
Each message says what went wrong and what to do next.
"""


class ExplorerError(Exception):
    """Base class: anything the user can fix by changing their input or settings."""


class DataError(ExplorerError):
    """Malformed, missing or unsupported data."""


class DataNotFoundError(DataError):
    """A data set's files are not where we looked for them."""


class ConfigError(ExplorerError):
    """An option is of the wrong type or outside its range (the config dataclasses say which)."""


class ModelConfigError(ConfigError):
    """A model cannot be built from the requested settings."""


class CheckpointError(ExplorerError):
    """A checkpoint folder is missing, corrupt, foreign or of an unknown version."""


class CheckpointExistsError(CheckpointError):
    """A save would replace an existing checkpoint and was not asked to."""


class OutputPathError(ExplorerError):
    """An output path that cannot or must not be written: a file or folder of the user's, a
    system folder, a read-only place."""


class DeviceError(ExplorerError):
    """The requested device does not exist here."""


class TrainingDivergedError(ExplorerError):
    """The loss became NaN or infinite; the model keeps its last good weights."""

    def __init__(self, message: str, history: object | None = None) -> None:
        super().__init__(message)
        self.history = history


class OutOfMemoryError(ExplorerError):
    """The device ran out of memory."""


# What the CLI and the app say when a MemoryError or a device out-of-memory error escapes.
OUT_OF_MEMORY_MESSAGE = "This machine ran out of memory. Use a smaller data set, batch or model."


class ProjectionError(ExplorerError):
    """A map (PCA, UMAP, t-SNE, raw) cannot be made or inverted with these settings."""

