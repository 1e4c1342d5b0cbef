"""One exception hierarchy for every user-facing failure.

Messages name the file, field or value at fault and what is allowed, so the CLI can print them as one line
and the server can answer 4xx with them unchanged.
"""

from __future__ import annotations

__all__ = [
    "Cancelled",
    "ConfigError",
    "DataError",
    "FormatError",
    "ModelError",
    "NnscapeError",
]


class NnscapeError(Exception):
    """Base class of every error nnscape raises on purpose."""


class FormatError(NnscapeError):
    """A .nnscape file or Network breaks the format (missing field, wrong shape, bad value)."""


class ConfigError(NnscapeError):
    """A configuration key is unknown, of the wrong type or out of range."""


class ModelError(NnscapeError):
    """A model cannot be read or has a layer nnscape does not support."""


class DataError(NnscapeError):
    """A data set cannot be read or does not fit the model."""


class Cancelled(NnscapeError):
    """Long work was stopped on request; nothing was written."""
