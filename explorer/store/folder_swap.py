"""Replace a folder by a complete new one in one step, so that a kill or a power cut at any
instant leaves the old folder or the new one, never a mix: the new folder is written beside
it, flushed to disk, and swapped in (Linux ``renameat2(RENAME_EXCHANGE)``, else two renames
that the caller's recovery can undo)."""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path


def sync_tree(folder: Path) -> None:
    """Flush the files and then the folder itself to disk, so that after the swap a power cut
    leaves the complete new folder, not empty files."""
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    fsync_dir(folder)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def swap_into_place(new: Path, folder: Path, aside_name: str) -> None:
    """Put ``new`` at ``folder``. Where ``folder`` exists the two are exchanged in one atomic
    step (Linux renameat2), so the path holds the complete old or the complete new folder
    at every instant; ``new`` then holds the old one, for the caller to delete. Elsewhere the
    old one is moved aside first, to ``aside_name`` beside it, for the caller's recovery to
    put back if a kill comes in between."""
    if not folder.exists():
        os.rename(new, folder)
    elif not exchange(new, folder):
        aside = folder.with_name(aside_name)
        os.rename(folder, aside)
        os.rename(new, folder)
        os.rename(aside, new)
    fsync_dir(folder.parent)


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths; False where the system cannot (not Linux, old kernel,
    a file system without RENAME_EXCHANGE)."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(error, os.strerror(error))


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a save in progress, not a leftover)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True
