"""Writing files so that a failure leaves nothing: atomic writes, early writability checks, stale temp cleanup.

Every file nnscape writes goes through :func:`atomic_write_bytes`: a hidden temporary ``.NAME.XXXXXXXX.tmp``
beside the target, then a rename. While it is written the temporary file holds an exclusive ``flock``, so a
later writer can tell a live one from the leftover of a process killed with SIGKILL (whose lock the kernel has
released) and remove only the latter (:func:`remove_stale_temps`). Ctrl+C and SIGTERM unwind through the
writer's ``except`` and remove the temporary file themselves.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from nnscape.errors import NnscapeError

if sys.platform != "win32":  # Windows has no flock; there stale files are recognised by age alone
    import fcntl

__all__ = [
    "MAX_NAME_BYTES",
    "atomic_write_bytes",
    "check_name_bytes",
    "check_writable",
    "remove_stale_temps",
]

TEMP_SUFFIX = ".tmp"
# mkstemp's random part; together with the leading "." it is what a temporary name adds to the target's.
_RANDOM_CHARS = 8
_TEMP_NAME = re.compile(rf"\..+\.[A-Za-z0-9_]{{{_RANDOM_CHARS}}}{re.escape(TEMP_SUFFIX)}", re.DOTALL)
# Most file systems allow 255 bytes per name; the temporary name adds 1 + 1 + 8 + 4 bytes and the server's
# "-N" variants up to 6 more, so a target name is held well below that.
MAX_NAME_BYTES = 200
# A temporary file younger than this is never removed, even if unlocked: its writer may be about to lock it.
STALE_AFTER_S = 2.0
# Without flock (Windows) only a temporary file this old counts as a leftover.
STALE_AFTER_UNLOCKED_S = 3600.0
# What open() would give a new file before the umask; mkstemp's own 0600 would hide networks from a server
# or container running as another user.
NEW_FILE_MODE = 0o666


def _read_umask() -> int:
    """The process's umask (reading it means setting it; restored at once)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Read once, at import: reading sets the umask to 0 for a moment, which must not happen while the server's job
# threads may be creating files.
_UMASK = _read_umask()


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a locked temporary file in the same folder and a rename.

    Leftovers of killed writers in that folder are removed first.
    """
    target = Path(path)
    remove_stale_temps(target.parent)
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as temp:
            if sys.platform != "win32":
                fcntl.flock(temp.fileno(), fcntl.LOCK_EX)
                os.fchmod(temp.fileno(), NEW_FILE_MODE & ~_UMASK)
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
            if sys.platform != "win32":
                os.replace(temp_name, target)  # while still locked, so no cleaner can take it for a leftover
        if sys.platform == "win32":
            os.replace(temp_name, target)  # Windows cannot rename an open file
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise


def remove_stale_temps(folder: str | os.PathLike[str]) -> list[str]:
    """Remove temporary files of our naming in ``folder`` that no live writer holds; return their names.

    Errors (an unreadable folder, a file removed meanwhile) are ignored: cleaning is a courtesy, never the
    reason a command fails.
    """
    removed: list[str] = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    now = time.time()
    for name in names:
        if not _TEMP_NAME.fullmatch(name):
            continue
        path = os.path.join(folder, name)
        with contextlib.suppress(OSError):
            if _is_stale(path, now):
                os.unlink(path)
                removed.append(name)
    return removed


def _is_stale(path: str, now: float) -> bool:
    status = os.lstat(path)
    age = now - status.st_mtime
    if sys.platform == "win32":
        return age > STALE_AFTER_UNLOCKED_S
    if age < STALE_AFTER_S or not os.path.isfile(path) or os.path.islink(path):
        return False
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False  # a live writer holds it
    finally:
        os.close(descriptor)  # closing drops our lock too
    return True


def check_name_bytes(name: str, what: str) -> None:
    """Refuse a file name longer than :data:`MAX_NAME_BYTES` in UTF-8 (CJK characters take 3 bytes each)."""
    size = len(os.fsencode(name))
    if size > MAX_NAME_BYTES:
        raise NnscapeError(
            f"{what} {name!r}: the name is {size} bytes long; at most {MAX_NAME_BYTES} bytes are allowed"
        )


def check_writable(path: str | os.PathLike[str], what: str, *, shown: object = None) -> Path:
    """Check, before any work, that a file ``path`` can be created or replaced; return it.

    Errors read ``{what} {shown}: …`` (``shown`` defaults to ``path``).

    Its folder must exist and accept a new file (tried with a temporary file, so read-only folders, read-only
    mounts and /proc are caught even for root), the name must fit in :data:`MAX_NAME_BYTES`, and ``path``
    must not be a folder.
    """
    target = Path(path)
    culprit = f"{what} {target if shown is None else shown}"
    check_name_bytes(target.name, what)
    folder = target.parent
    if not folder.is_dir():
        raise NnscapeError(f"{culprit}: folder {folder} does not exist")
    if target.is_dir():
        raise NnscapeError(f"{culprit}: is a folder, expected a file name")
    try:
        handle, probe = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=folder)
    except OSError as exc:
        raise NnscapeError(f"{culprit}: cannot write in {folder} ({exc.strerror})") from exc
    os.close(handle)
    os.unlink(probe)
    return target
