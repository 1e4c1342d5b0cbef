"""The served folder: safe file-name resolution, the network list and fresh output names.

Every name a client sends is checked against the folder's own listing, so a request can only ever reach a
``*.nnscape`` file that sits in the folder: no separators, no ``..``, no absolute paths, no hidden files, no
symbolic links that resolve outside it. Summaries are cached by (size, modification time) so listing a folder
of large processed files stays fast after the first look, while each file is still fully validated once.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nnscape.errors import NnscapeError
from nnscape.files import check_name_bytes, remove_stale_temps
from nnscape.io import load, save
from nnscape.network import Network
from nnscape.server.errors import ClientError

__all__ = ["SUFFIX", "NetworkFolder", "check_new_name", "check_plain_name", "processed_name", "with_suffix"]

log = logging.getLogger(__name__)

SUFFIX = ".nnscape"
PROCESSED_SUFFIX = ".processed"
# Names the server creates: letters, digits, "_", "-", "." and spaces, not starting with a dot.
_NEW_NAME = re.compile(r"[^\W_][\w.\- ]*", re.UNICODE)
# Second, third … candidates for a name that is taken: "a.nnscape" → "a-2.nnscape".
_MAX_UNIQUE_TRIES = 10_000


@dataclass(frozen=True)
class _CacheEntry:
    size: int
    mtime_ns: int
    summary: dict[str, Any]


class NetworkFolder:
    """A folder of ``.nnscape`` files that the server reads from and writes new files into."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        if not self.root.is_dir():
            raise NnscapeError(f"{root}: not a folder")
        remove_stale_temps(self.root)  # leftovers of a writer killed while this folder was last served
        self._cache: dict[str, _CacheEntry] = {}
        self._cache_lock = threading.Lock()
        # Held from choosing a fresh name until the file is written, so two writers never pick the same one.
        self.write_lock = threading.Lock()

    # -- reading -----------------------------------------------------------------------------------------

    def names(self) -> list[str]:
        """Names of the servable files in the folder, newest first."""
        found: list[tuple[float, str]] = []
        for name in os.listdir(self.root):
            path = self.root / name
            try:
                if self._servable(path):
                    found.append((path.stat().st_mtime, name))
            except FileNotFoundError:  # removed while we looked
                continue
        return [name for _, name in sorted(found, reverse=True)]

    def resolve(self, name: str) -> Path:
        """The real path of the listed file ``name``; :class:`ClientError` (400/403/404) for anything else."""
        check_plain_name(name)
        path = self.root / name
        if name not in os.listdir(self.root) or not path.exists():
            raise ClientError(f"{name}: no such network in the served folder", 404)
        if not self._servable(path):
            raise ClientError(f"{name}: is a link to a file outside the served folder, or not a file", 403)
        return path.resolve()

    def load(self, name: str) -> Network:
        """Read and validate the listed file ``name``; errors name the file, not the server's path."""
        return load(self.resolve(name), name=name)

    def summaries(self) -> list[dict[str, Any]]:
        """Every file's list entry, newest first (see :func:`nnscape.summary.summarize`); broken ones say why."""
        entries = []
        for name in self.names():
            try:
                entries.append(self._summary(name))
            except FileNotFoundError:  # removed while we looked
                continue
        return entries

    def _summary(self, name: str) -> dict[str, Any]:
        from nnscape.summary import summarize

        path = self.root / name
        stat = path.stat()
        with self._cache_lock:
            entry = self._cache.get(name)
        if entry is not None and (entry.size, entry.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
            return entry.summary
        base: dict[str, Any] = {"name": name, "size_bytes": stat.st_size, "modified": stat.st_mtime}
        try:
            info = summarize(load(path, name=name))
        except NnscapeError as exc:
            summary = base | {"broken": True, "error": str(exc)}
        except Exception as exc:  # one unreadable file must never take the whole list down
            log.exception("summarizing %s failed", name)
            summary = base | {"broken": True, "error": f"{name}: cannot be read ({type(exc).__name__})"}
        else:
            summary = base | {key: info[key] for key in _LIST_FIELDS} | {"broken": False}
        with self._cache_lock:
            self._cache[name] = _CacheEntry(stat.st_size, stat.st_mtime_ns, summary)
        return summary

    # -- writing -----------------------------------------------------------------------------------------

    def save_new(self, network: Network, name: str) -> str:
        """Save ``network`` under ``name``, or under a fresh variant if it is taken; return the name used."""
        check_new_name(name)
        with self.write_lock:
            fresh = self._fresh_name(name)
            save(network, self.root / fresh)
        return fresh

    def _fresh_name(self, name: str) -> str:
        stem = name[: -len(SUFFIX)]
        for attempt in range(1, _MAX_UNIQUE_TRIES + 1):
            candidate = name if attempt == 1 else f"{stem}-{attempt}{SUFFIX}"
            if not (self.root / candidate).exists() and not (self.root / candidate).is_symlink():
                return candidate
        raise NnscapeError(f"{name}: no free name left beside it in the served folder")

    def _servable(self, path: Path) -> bool:
        """A visible ``*.nnscape`` regular file directly in the folder (a link must stay inside it)."""
        visible = path.name.endswith(SUFFIX) and not path.name.startswith(".")
        return visible and path.is_file() and path.resolve().parent == self.root


_LIST_FIELDS = (
    "kind",
    "layer_sizes",
    "layer_names",
    "layer_kinds",
    "classes",
    "class_names",
    "edges",
    "pruned_edges",
    "samples",
)


def check_plain_name(name: str) -> None:
    """Reject anything but a bare ``*.nnscape`` file name (400)."""
    if "/" in name or "\\" in name or "\0" in name or name in (".", ".."):
        raise ClientError(f"{name!r}: expected a bare file name without folders", 400)
    if not name.endswith(SUFFIX) or name.startswith("."):
        raise ClientError(f"{name!r}: expected a visible file name ending in {SUFFIX}", 400)


def check_new_name(name: str) -> None:
    """A name the server may create: a plain ``*.nnscape`` name of ordinary characters (400 otherwise)."""
    check_plain_name(name)
    check_name_bytes(name, "name")  # bytes, not characters: 80 CJK characters are 240 bytes
    if not _NEW_NAME.fullmatch(name):
        raise ClientError(
            f"{name!r}: a new file name must be letters, digits, '_', '-', '.' or spaces, start with a letter or "
            f"digit and end in {SUFFIX}",
            400,
        )


def with_suffix(name: str) -> str:
    """``"a"`` → ``"a.nnscape"``; a name already ending in the suffix is kept."""
    return name if name.endswith(SUFFIX) else name + SUFFIX


def processed_name(name: str) -> str:
    """The default output of processing ``name``: ``a.nnscape`` and ``a.processed.nnscape`` → the latter."""
    stem = name[: -len(SUFFIX)]
    stem = stem.removesuffix(PROCESSED_SUFFIX)
    return f"{stem}{PROCESSED_SUFFIX}{SUFFIX}"
