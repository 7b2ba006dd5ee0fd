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


def test_unknown_names_raise_one_error_with_suggestions_and_a_plain_message():
    import pickle

    from transferkit.errors import TransferkitError, UnknownName

    reg: Registry = Registry("score", hint="see `transferkit rank --help`")
    reg.add("logme", 1)
    reg.add("leep", 2, aliases=("leep_score",))
    with pytest.raises(UnknownName) as info:
        reg.get("logmee")
    err = info.value
    assert isinstance(err, KeyError) and isinstance(err, TransferkitError)
    assert str(err) == "unknown score 'logmee'; did you mean 'logme'? known: leep, logme (see `transferkit rank --help`)"
    assert err.suggestions[0] == "logme" and err.known == ("leep", "logme")
    again = pickle.loads(pickle.dumps(err))  # crosses process boundaries intact
    assert type(again) is UnknownName and str(again) == str(err)
    assert "did you mean 'leep_score'" in str(UnknownName("score", "leep_scor", reg.names(), aliases=("leep_score",)))
    with pytest.raises(UnknownName, match=r"^unknown score 'zzz'; known: leep, logme \(from the config\)$"):
        reg.canonical("zzz", context="from the config")
    assert reg.canonical("LEEP_SCORE") == "leep" and reg.names(sort=False) == ["logme", "leep"]


def test_cli_shows_unknown_names_as_a_user_error():
    import typer
    from typer.testing import CliRunner

    from transferkit.cli._common import friendly_errors

    reg: Registry = Registry("strategy")
    reg.add("lp_ft", 1)
    app = typer.Typer()

    @app.command()
    @friendly_errors
    def go(name: str) -> None:
        reg.get(name)

    res = CliRunner().invoke(app, ["lp-ft"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "error: unknown strategy 'lp-ft'; did you mean 'lp_ft'? known: lp_ft" in " ".join(res.output.split())
