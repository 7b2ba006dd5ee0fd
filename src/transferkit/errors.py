"""Exceptions with messages that say what to do next."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class TransferkitError(Exception):
    """Base class of every error transferkit raises on purpose."""


class DataError(TransferkitError, ValueError):
    """Input data is malformed, inconsistent or unusable; the message says what to fix."""


class BackboneError(TransferkitError, ValueError):
    """A backbone cannot be created or loaded as requested (never silently random)."""


class UnknownName(TransferkitError, KeyError):
    """A name that no registry holds: a typo in a backbone, strategy, score, metric... name.

    The message names the kind, the bad name, the closest registered names and every known
    name, e.g. ``unknown transferability score 'logmee'; did you mean 'logme'? known: gbc, ...``.
    It is a :class:`KeyError` (a failed look-up), and its ``str`` is the plain message (a bare
    ``KeyError`` would wrap it in quotes).

    Attributes:
        kind: what was looked up (``"strategy"``, ``"metric"`` ...).
        name: the name given.
        known: the registered names, sorted.
        suggestions: the closest known names or aliases (best first), possibly empty.
        context: extra text appended in parentheses (where the name came from, where to look).
    """

    def __init__(self, kind: str, name: object, known: Iterable[str], context: str = "",
                 aliases: Iterable[str] = ()) -> None:
        self.kind = kind
        self.name = name
        self.known = tuple(sorted(known))
        self.context = context
        self.aliases = tuple(aliases)
        candidates = list(dict.fromkeys([*self.known, *self.aliases]))
        self.suggestions = tuple(difflib.get_close_matches(str(name).lower(), candidates, n=3, cutoff=0.7))
        msg = f"unknown {kind} {name!r}; "
        if self.suggestions:
            msg += f"did you mean {' or '.join(repr(s) for s in self.suggestions)}? "
        msg += f"known: {', '.join(self.known) or '(none)'}"
        if context:
            msg += f" ({context})"
        super().__init__(msg)

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self) -> tuple[type, tuple[str, object, tuple[str, ...], str, tuple[str, ...]]]:
        # the message is built from the parts, so pickle the parts (errors cross process boundaries)
        return (type(self), (self.kind, self.name, self.known, self.context, self.aliases))
