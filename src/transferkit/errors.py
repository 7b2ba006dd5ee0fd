"""Exceptions with messages that say what to do next."""

from __future__ import annotations


class TransferkitError(Exception):
    """Base class of every error transferkit raises on purpose."""


class DataError(TransferkitError, ValueError):
    """Input data is malformed, inconsistent or unusable; the message says what to fix."""


class BackboneError(TransferkitError, ValueError):
    """A backbone cannot be created or loaded as requested (never silently random)."""
