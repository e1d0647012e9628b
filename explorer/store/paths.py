"""Output paths, checked before any work is done, so a long run never ends in a failed write
and nothing is written anywhere but where the user asked.

Nothing here creates the output itself; the only thing written is a probe file, removed at
once, that proves the folder takes files (a read-only mount passes ``os.access`` as root)."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from explorer.errors import OutputPathError

# Kernel file systems: writing there changes the system or fails, never makes a file.
SYSTEM_FOLDERS = ("/proc", "/sys", "/dev")


def check_output_file(path: str | Path, suffixes: tuple[str, ...] = (), option: str = "--out") -> Path:
    """``path`` as a file to create or replace: its folder exists and takes files, and it is
    not a folder or a special file (a device, a FIFO). ``suffixes``: the endings allowed."""
    path = _named(path, option)
    mode = _mode(path)
    if mode is not None and stat.S_ISDIR(mode):
        raise OutputPathError(f"Cannot write {path}: it is a folder; give a file name inside it.")
    if mode is not None and not stat.S_ISREG(mode):
        raise OutputPathError(f"Cannot write {path}: it is a special file (a device, FIFO or "
                              "socket), not a file; give a file name in a folder of yours.")
    if suffixes and path.suffix.lower() not in suffixes:
        raise OutputPathError(f"{option} must end in {' or '.join(suffixes)}, got {path.name!r}.")
    check_folder_takes_files(path.parent, path, create=False)
    return path


def _named(path: str | Path, option: str) -> Path:
    if not str(path).strip():
        raise OutputPathError(f"{option} is empty; give a path.")
    return Path(path).expanduser()


def _mode(path: Path) -> int | None:
    """``st_mode`` of what ``path`` names, following links; None if nothing is there."""
    try:
        return os.stat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:  # a link loop, a name too long, a file used as a folder
        raise OutputPathError(f"Cannot write {path}: {exc.strerror or exc}.") from None


def check_folder_takes_files(folder: Path, target: Path, create: bool) -> None:
    """``folder`` (or with ``create`` its nearest existing ancestor) is a folder that takes files."""
    real = os.path.realpath(folder)
    if any(real == root or real.startswith(root + "/") for root in SYSTEM_FOLDERS):
        raise OutputPathError(f"Cannot write {target}: {folder} is a system folder "
                              f"({', '.join(SYSTEM_FOLDERS)}); write into a folder of yours.")
    existing = folder
    while create and _mode(existing) is None and existing != existing.parent:
        existing = existing.parent
    mode = _mode(existing)
    if mode is None:
        raise OutputPathError(f"Cannot write {target}: the folder {folder} does not exist; create it first.")
    if not stat.S_ISDIR(mode):
        raise OutputPathError(f"Cannot write {target}: {existing} is a file, not a folder.")
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-probe.", dir=existing)
    except OSError as exc:
        raise OutputPathError(f"Cannot write {target}: {existing} does not take files "
                              f"({exc.strerror or exc}); pick a folder you can write to.") from None
    os.close(fd)
    os.unlink(probe)
