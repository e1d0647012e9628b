"""Which devices exist and how to get one. Nothing here runs at import time."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from explorer.errors import DeviceError


@dataclass(frozen=True)
class DeviceInfo:
    id: str
    name: str
    memory_gib: float | None = None

    @property
    def label(self) -> str:
        memory = f", {self.memory_gib:.0f} GiB" if self.memory_gib else ""
        return f"{self.id} ({self.name}{memory})"


def list_devices() -> list[DeviceInfo]:
    """CPU first, then each CUDA GPU by name, then Apple's MPS where present."""
    devices = [DeviceInfo("cpu", "CPU")]
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            devices.append(DeviceInfo(f"cuda:{i}", props.name, props.total_memory / 2**30))
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append(DeviceInfo("mps", "Apple Metal"))
    return devices


def resolve_device(name: str) -> torch.device:
    """``name`` ("cpu", "cuda", "cuda:N", "mps", or "auto" for the first GPU if any) as a
    device that exists, or a DeviceError saying which ones do."""
    ids = [d.id for d in list_devices()]
    if name == "auto":
        return torch.device(ids[1] if len(ids) > 1 else "cpu")
    if name == "cuda" and "cuda:0" in ids:
        return torch.device("cuda:0")
    if name not in ids:
        if name.startswith("cuda") and not torch.cuda.is_available():
            hint = "No CUDA GPU is visible here (no driver, or a CPU-only PyTorch build)."
        else:
            hint = f"{name!r} is not a device here."
        raise DeviceError(f"{hint} Available devices: {', '.join(ids)}.")
    return torch.device(name)
