from dataclasses import dataclass

import pytest

from transferkit._registry import Registry


@dataclass(frozen=True)
class Info:
    higher_is_better: bool


def test_register_get_info_alias_and_listing():
    reg: Registry = Registry("thing")

    @reg.register("Alpha", info=Info(True), aliases=("a",))
    def alpha():
        return 1

    reg.add("beta", lambda: 2, info=Info(False))
    assert reg.get("alpha") is alpha and reg.get("A") is alpha
    assert reg.info("beta") == Info(False)
    assert reg.names() == ["alpha", "beta"] and reg.names("b*") == ["beta"]
    assert "a" in reg and "gamma" not in reg and len(reg) == 2
    assert reg.resolve("alpha") is alpha and reg.resolve(print) is print


def test_duplicates_raise_and_unknown_names_list_known():
    reg: Registry = Registry("score")
    reg.add("x", 1)
    with pytest.raises(ValueError, match="already registered"):
        reg.add("X", 2)
    with pytest.raises(ValueError):
        reg.add("y", 3, aliases=("x",))
    with pytest.raises(KeyError, match="known: x"):
        reg.get("nope")
