"""One registry helper used by every kind of pluggable method.

Each kind (backbones, transferability scores, distances, strategies, adaptation methods, ...)
creates one :class:`Registry`. Methods register themselves in their own file with a decorator
and a small frozen ``info`` record that says what they need and promise::

    SCORES = Registry("transferability score")

    @SCORES.register("logme", info=ScoreInfo(input="features", higher_is_better=True))
    def logme(features, labels): ...

Public entry points accept either a registered name or an object with the right interface
(see :meth:`Registry.resolve`).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from transferkit.errors import UnknownName

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """A registered object with its name and info record."""

    name: str
    obj: T
    info: Any = None
    aliases: tuple[str, ...] = ()


class Registry(Generic[T]):
    """A name -> object map with info records, aliases and wildcard listing.

    Duplicate names raise :class:`ValueError`; unknown names raise
    :class:`~transferkit.errors.UnknownName` (a :class:`KeyError`) with the closest names and the
    list of known names, so a typo tells the user what exists. ``hint`` is appended to that
    message (e.g. ``"see `transferkit models`"``).
    """

    def __init__(self, kind: str, hint: str = "") -> None:
        self.kind = kind
        self.hint = hint
        self._entries: dict[str, Entry[T]] = {}
        self._aliases: dict[str, str] = {}

    def register(self, name: str, *, info: Any = None, aliases: tuple[str, ...] = ()) -> Callable[[T], T]:
        """Decorator that registers ``obj`` under ``name`` (and ``aliases``)."""

        def deco(obj: T) -> T:
            self.add(name, obj, info=info, aliases=aliases)
            return obj

        return deco

    def add(self, name: str, obj: T, *, info: Any = None, aliases: tuple[str, ...] = ()) -> None:
        """Register ``obj`` directly (non-decorator form)."""
        key = name.lower()
        for k in (key, *[a.lower() for a in aliases]):
            if k in self._entries or k in self._aliases:
                raise ValueError(f"{self.kind} {k!r} is already registered")
        self._entries[key] = Entry(key, obj, info, tuple(a.lower() for a in aliases))
        for a in aliases:
            self._aliases[a.lower()] = key

    def canonical(self, name: str, *, context: str | None = None) -> str:
        """The registered name of ``name`` or one of its aliases.

        Raises :class:`~transferkit.errors.UnknownName` for a name nothing is registered under;
        ``context`` (default: the registry's ``hint``) is appended to its message.
        """
        key = name.lower() if isinstance(name, str) else name
        key = self._aliases.get(key, key)
        if key not in self._entries:
            raise UnknownName(self.kind, name, self._entries, self.hint if context is None else context,
                              aliases=self._aliases)
        return key

    _key = canonical

    def get(self, name: str) -> T:
        """The object registered under ``name`` (or an alias)."""
        return self._entries[self._key(name)].obj

    def info(self, name: str) -> Any:
        """The info record registered with ``name``."""
        return self._entries[self._key(name)].info

    def entry(self, name: str) -> Entry[T]:
        """The full :class:`Entry` for ``name``."""
        return self._entries[self._key(name)]

    def resolve(self, name_or_obj: str | T) -> T:
        """A registered name becomes its object; anything else is returned unchanged."""
        if isinstance(name_or_obj, str):
            return self.get(name_or_obj)
        return name_or_obj

    def names(self, pattern: str = "*", *, sort: bool = True) -> list[str]:
        """Registered names matching a shell-style ``pattern``: sorted, or in registration order."""
        found = [n for n in self._entries if fnmatch.fnmatch(n, pattern.lower())]
        return sorted(found) if sort else found

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        key = name.lower()
        return key in self._entries or key in self._aliases

    def __iter__(self) -> Iterator[Entry[T]]:
        return iter(sorted(self._entries.values(), key=lambda e: e.name))

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {len(self)} entries)"
