"""ONNX in and out: export a torch encoder or decoder to one self-contained ``.onnx`` file,
and read one back as data, never as code, for onnxruntime to run.

Kept small and free of the rest of the library on purpose: the in-browser decoding work runs
the same ``decoder.onnx`` with onnxruntime-web, so what is written here is its input format
(one float32 input ``z`` of shape (batch, latent_dim), one output ``x`` shaped like an item).

Files from elsewhere are checked before onnxruntime sees them: a size limit
(``$LATENT_EXPLORER_MAX_ONNX_BYTES``, 512 MiB by default), a parse as an ONNX protobuf (a
pickle renamed ``.onnx`` or a truncated file fails there), and no external-data tensors
(weights in other files, which could name any path on the machine)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from explorer.checks import env_limit
from explorer.errors import CheckpointError

MAX_ONNX_BYTES_ENV = "LATENT_EXPLORER_MAX_ONNX_BYTES"
DEFAULT_MAX_ONNX_BYTES = 512 * 2**20
OPSET = 17  # supported by onnxruntime >= 1.14 and onnxruntime-web's WASM backend


class OnnxModelError(CheckpointError):
    """An ONNX file that cannot be used: too big, not ONNX, truncated, external data, wrong shapes."""


def max_onnx_bytes() -> int:
    """The largest ``.onnx`` file read: ``$LATENT_EXPLORER_MAX_ONNX_BYTES`` or 512 MiB."""
    return env_limit(MAX_ONNX_BYTES_ENV, DEFAULT_MAX_ONNX_BYTES, "bytes", OnnxModelError)


def export_module_onnx(module: nn.Module, example: torch.Tensor, path: str | Path,
                       input_name: str, output_names: tuple[str, ...]) -> Path:
    """Write ``module`` as one ``.onnx`` file with a dynamic batch axis, weights inside.

    The TorchScript exporter (``dynamo=False``) is used: the dynamo one needs ``onnxscript``."""
    path = Path(path)
    axes = {name: {0: "batch"} for name in (input_name, *output_names)}
    module = module.eval().cpu()
    with torch.no_grad(), warnings.catch_warnings():
        # torch calls the TorchScript exporter legacy; it is chosen on purpose (see above)
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(module, (example.cpu(),), str(path), input_names=[input_name],
                          output_names=list(output_names), dynamic_axes=axes, opset_version=OPSET,
                          dynamo=False)
    return path


def export_decoder_onnx(decoder: nn.Module, latent_dim: int, path: str | Path) -> Path:
    """The decoder as ``path``: input ``z`` (batch, latent_dim) float32, output ``x`` (batch, *item)."""
    return export_module_onnx(decoder, torch.zeros(2, latent_dim), path, "z", ("x",))


def export_encoder_onnx(encoder: nn.Module, example: torch.Tensor, path: str | Path,
                        variational: bool) -> Path:
    """The encoder as ``path``: input ``x`` (batch, *item), output ``z`` (and ``logvar``)."""
    return export_module_onnx(encoder, example, path, "x", ("z", "logvar") if variational else ("z",))


def read_onnx(path: str | Path):
    """The parsed, checked ``onnx.ModelProto`` at ``path``, or one ``OnnxModelError`` line."""
    import onnx
    from google.protobuf.message import DecodeError

    path = Path(path)
    try:
        size = path.stat().st_size if path.is_file() else None
    except OSError:
        size = None
    if size is None:
        raise OnnxModelError(f"{path} is not a readable file.")
    limit = max_onnx_bytes()
    if size > limit:
        raise OnnxModelError(f"{path} is {size:,} bytes; ONNX files are read up to {limit:,} bytes "
                             f"(set {MAX_ONNX_BYTES_ENV} to allow more).")
    data = path.read_bytes()
    try:
        model = onnx.load_model_from_string(data)
    except (DecodeError, ValueError, RuntimeError) as exc:
        raise OnnxModelError(f"{path} is not an ONNX model ({' '.join(str(exc).split())[:80] or 'unparsable'}"
                             "); export it with torch.onnx.export.") from None
    if not model.graph.node and not model.graph.output:
        # protobuf parses many byte strings (a pickle, a text file) as an empty message
        raise OnnxModelError(f"{path} is not an ONNX model (no graph); export it with torch.onnx.export.")
    for tensor in [*model.graph.initializer, *_constant_tensors(model)]:
        if tensor.data_location == onnx.TensorProto.EXTERNAL or tensor.external_data:
            raise OnnxModelError(f"{path} keeps tensor {tensor.name!r} in an external file; only "
                                 "self-contained ONNX files are read (re-export without external data).")
    try:
        onnx.checker.check_model(model)
    except Exception as exc:  # onnx raises ValidationError and, for truncated graphs, others
        raise OnnxModelError(f"{path} is not a valid ONNX model ({_short(exc)}).") from None
    return model


def _short(exc: Exception) -> str:
    return " ".join(str(exc).split())[:120]


def _constant_tensors(model):
    for node in model.graph.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                yield attr.t


class OnnxFunction:
    """One ONNX graph run by onnxruntime on the CPU: float32 arrays in, a tuple of arrays out."""

    def __init__(self, path: str | Path) -> None:
        import onnxruntime as ort

        model = read_onnx(path)
        self.path = Path(path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # the machine's few cores are shared with the app server
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(model.SerializeToString(), options,
                                                providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
            raise OnnxModelError(f"{path} cannot be run by onnxruntime ({_short(exc)}).") from None
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            raise OnnxModelError(f"{path} takes {len(inputs)} inputs; an encoder or decoder takes one.")
        self.input_name = inputs[0].name
        self.input_shape = tuple(inputs[0].shape)
        self.n_outputs = len(self.session.get_outputs())

    def __call__(self, x: np.ndarray) -> tuple[np.ndarray, ...]:
        try:
            outputs = self.session.run(None, {self.input_name: np.ascontiguousarray(x, dtype=np.float32)})
        except Exception as exc:
            raise OnnxModelError(f"{self.path.name} failed on input of shape {tuple(x.shape)} "
                                 f"({' '.join(str(exc).split())[:160]}).") from None
        return tuple(np.asarray(o, dtype=np.float32) for o in outputs)
