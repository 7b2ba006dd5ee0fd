"""Gymnasium environments with changed physics: ``CartPole-v1`` with ``length=1.0``, ``gravity=19.6``...

A variant is an environment id plus physical constants to override (``name=value`` pairs). The
constants each classic-control environment exposes are listed in :data:`PHYSICS`; derived
quantities (CartPole's total mass and pole mass x length) are recomputed after an override.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from transferkit.errors import TransferkitError

# environment id prefix -> {parameter name: attribute on env.unwrapped}
PHYSICS: dict[str, dict[str, str]] = {
    "CartPole": {"gravity": "gravity", "masscart": "masscart", "masspole": "masspole", "length": "length",
                 "force_mag": "force_mag", "tau": "tau"},
    "Acrobot": {"link_length_1": "LINK_LENGTH_1", "link_length_2": "LINK_LENGTH_2", "link_mass_1": "LINK_MASS_1",
                "link_mass_2": "LINK_MASS_2", "link_com_pos_1": "LINK_COM_POS_1", "link_com_pos_2": "LINK_COM_POS_2",
                "link_moi": "LINK_MOI"},
    "MountainCar": {"force": "force", "gravity": "gravity"},
}


class AgentsError(TransferkitError):
    """A bad environment, variant or RL setting (the message says what to change)."""


def _family(env_id: str) -> str:
    for fam in PHYSICS:
        if env_id.startswith(fam) and "Continuous" not in env_id:
            return fam
    raise AgentsError(f"no physics variants known for {env_id!r}: use one of CartPole-v1, Acrobot-v1, MountainCar-v0")


@dataclass(frozen=True)
class Variant:
    """An environment id with physical constants overridden (empty ``params``: the default world)."""

    env_id: str
    params: dict[str, float] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``length=1.0,gravity=19.6``, or ``default``."""
        return ",".join(f"{k}={v:g}" for k, v in self.params.items()) or "default"

    def make(self, **kwargs: Any) -> Any:
        """A new gymnasium environment with these physics."""
        import gymnasium as gym

        env = gym.make(self.env_id, **kwargs)
        apply_physics(env.unwrapped, self.env_id, self.params)
        return env


def apply_physics(env: Any, env_id: str, params: dict[str, float]) -> None:
    """Set the physical constants ``params`` on an unwrapped environment (recomputing derived ones)."""
    names = PHYSICS[_family(env_id)]
    for key, value in params.items():
        if key not in names:
            raise AgentsError(f"{env_id} has no physics parameter {key!r}; known: {', '.join(names)}")
        if not value > 0:
            raise AgentsError(f"{key} must be > 0, got {value}")
        setattr(env, names[key], float(value))
    if _family(env_id) == "CartPole":
        env.total_mass = env.masspole + env.masscart
        env.polemass_length = env.masspole * env.length


def parse_variant(env_id: str, text: str) -> Variant:
    """``"length=1.0"`` or ``"length=1.0;masspole=0.2"`` (``;`` or ``+`` join several) -> :class:`Variant`.

    ``"default"`` (or an empty string) is the unchanged environment.
    """
    names = PHYSICS[_family(env_id)]
    params: dict[str, float] = {}
    t = text.strip()
    if t in ("", "default"):
        return Variant(env_id, {})
    for part in t.replace("+", ";").split(";"):
        if "=" not in part:
            raise AgentsError(f"cannot read variant {text!r}: write name=value, e.g. length=1.0")
        key, val = (s.strip() for s in part.split("=", 1))
        if key not in names:
            raise AgentsError(f"{env_id} has no physics parameter {key!r}; known: {', '.join(names)}")
        try:
            params[key] = float(val)
        except ValueError as exc:
            raise AgentsError(f"variant {text!r}: {val!r} is not a number") from exc
        if not params[key] > 0:
            raise AgentsError(f"variant {text!r}: {key} must be > 0")
    return Variant(env_id, params)


def parse_variants(env_id: str, text: str) -> list[Variant]:
    """A comma-separated list of variants: ``"length=1.0,length=2.0,gravity=20"``."""
    out = [parse_variant(env_id, p) for p in text.split(",") if p.strip()]
    if not out:
        raise AgentsError("give at least one target variant, e.g. --variants length=1.0,gravity=19.6")
    return out
