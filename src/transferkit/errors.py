"""Exceptions with messages that say what to do next.

Each class carries the exit code the command line ends with (``transferkit.cli._common.friendly_errors``):

* 2, a usage error: an option, argument, name or config that cannot be used as given
  (:class:`UsageError`, :class:`UnknownName`, and a plain :class:`TransferkitError`);
* 3, bad data or a bad model file: the input exists but cannot be used (:class:`DataError`,
  :class:`BackboneError`).

:class:`DataArgumentError` and :class:`BackboneSpecError` are usage errors about data or backbone
arguments (a path that does not exist, a budget or count out of range, an unknown model, a backbone
option that is missing); they stay a :class:`DataError` / :class:`BackboneError`, which is what
code that catches those expects. Anything else that escapes a command is a bug: exit code 1.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class TransferkitError(Exception):
    """Base class of every error transferkit raises on purpose (on its own: a usage error, exit code 2)."""

    exit_code: int = 2


class UsageError(TransferkitError, ValueError):
    """An option, argument or config value that cannot be used as given (exit code 2)."""

    exit_code = 2


class DataError(TransferkitError, ValueError):
    """Input data is malformed, inconsistent or unusable; the message says what to fix (exit code 3)."""

    exit_code = 3


class BackboneError(TransferkitError, ValueError):
    """A backbone cannot be created or loaded as requested (never silently random); a model file is bad
    (exit code 3)."""

    exit_code = 3


class DataArgumentError(UsageError, DataError):
    """A data argument that cannot be used: a path or named set that does not exist, a split, domain,
    budget or count out of range (exit code 2; still a :class:`DataError`)."""


class BackboneSpecError(UsageError, BackboneError):
    """A backbone spec that cannot be used: an unknown model, a missing or bad option, a zoo entry that
    does not exist, a missing package, a random backbone where transfer needs a pre-trained one (exit
    code 2; still a :class:`BackboneError`)."""


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

    exit_code = 2

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
