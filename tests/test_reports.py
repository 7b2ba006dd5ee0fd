"""Reports: plain objects from results.json, the HTML page, the terminal table, MLflow, the CLI."""

from __future__ import annotations

import copy
import json
import os
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from _report_samples import HOSTILE, full_results
from rich.console import Console

from transferkit.reports import _info as I
from transferkit.reports.html import render_report, write_report
from transferkit.reports.run import SCHEMA, read_results, to_jsonable, write_results
from transferkit.reports.terminal import print_summary
from transferkit.reports.tracking import flatten_metrics

# ----------------------------------------------------------------------------- helpers


class _Page(HTMLParser):
    """Collects tags, attributes and text of an HTML page (text is unescaped, as a browser shows it)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend((tag, k, v) for k, v in attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Page:
    p = _Page()
    p.feed(page)
    p.close()
    return p


def _svgs(page: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", page, flags=re.S)


def _svg_texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)  # must be well-formed XML
    return ["".join(el.itertext()) for el in root.iter("{http://www.w3.org/2000/svg}text")]


def _subset(*keys: str) -> dict:
    """The sample results with only some sections (fewer plots: faster tests)."""
    res = full_results()
    res["sections"] = {k: res["sections"][k] for k in keys}
    return res


@pytest.fixture(scope="module")
def full_page() -> str:
    return render_report(full_results())


# ----------------------------------------------------------------------------- plain objects


def test_verdict_sentence_in_points_for_accuracy() -> None:
    s = I.verdict_sentence("positive", "accuracy", 0.041, 0.020, 0.062, 5, points=True, higher_is_better=True)
    assert s == "Transfer helped: +4.1 points accuracy, 95% CI [+2.0, +6.2] over 5 paired seeds."


def test_verdict_sentence_raw_units_lower_is_better_and_inconclusive() -> None:
    s = I.verdict_sentence("negative", "log_loss", -0.12, -0.2, -0.05, 3, False, False)
    assert s == ("Transfer hurt (negative transfer): -0.12 log_loss improvement (lower is better), "
                 "95% CI [-0.2, -0.05] over 3 paired seeds.")
    s = I.verdict_sentence("inconclusive", "accuracy", 0.004, -0.012, 0.02, 1, True, True)
    assert "over 1 paired seed;" in s and "includes zero" in s and "[-1.2, +2.0]" in s


@pytest.mark.parametrize(
    ("lo", "hi", "expected"),
    [(0.01, 0.05, "positive"), (-0.05, -0.01, "negative"), (-0.01, 0.02, "inconclusive"),
     (None, 0.1, "inconclusive"), (None, None, "inconclusive"), (0.2, None, "positive")],
)
def test_infer_verdict(lo: float | None, hi: float | None, expected: str) -> None:
    assert I.infer_verdict(lo, hi) == expected


def test_fraction_metric_detection() -> None:
    assert I.is_fraction_metric("accuracy", [0.5, 0.9])
    assert I.is_fraction_metric("macro_f1", [0.1])
    assert not I.is_fraction_metric("accuracy", [55.0, 90.0])  # already in percent
    assert not I.is_fraction_metric("log_loss", [0.3])
    assert not I.is_fraction_metric("rmse", [0.3])


def test_comparison_parses_and_uses_points() -> None:
    c = I.parse_comparison(full_results()["sections"]["comparison"])
    assert [a.role for a in c.arms] == ["transfer", "scratch", "source_only", "linear_probe"]
    assert c.points and c.verdict == "positive"
    assert c.sentence == "Transfer helped: +4.0 points accuracy, 95% CI [+2.0, +6.2] over 5 paired seeds."
    assert c.metrics is not None
    assert c.metrics.columns == ("metric", "transfer (resnet18)", "scratch", "linear probe")
    assert c.metrics.rows == (("macro_f1", 0.9, 0.85, 0.8),)
    assert c.budget == "10 labels per class"
    assert c.time_to_scratch_best is not None
    assert c.time_to_scratch_best.columns[:2] == ("seed", "scratch_best_val")


def test_comparison_lower_is_better_orients_the_gain() -> None:
    d = {"metric": "log_loss", "higher_is_better": False, "seeds": [0, 1],
         "transfer": {"per_seed": [0.30, 0.32]}, "scratch": {"per_seed": [0.40, 0.44]},
         "diff": {"ci_low": 0.01, "ci_high": 0.2}}
    c = I.parse_comparison(d)
    assert c.diff_mean == pytest.approx(0.11) and c.verdict == "positive" and not c.points
    assert c.diff_per_seed == pytest.approx((0.10, 0.12))
    assert c.sentence.startswith("Transfer helped: +0.11 log_loss improvement (lower is better)")


def test_comparison_fills_missing_mean_and_verdict() -> None:
    d = copy.deepcopy(full_results()["sections"]["comparison"])
    del d["verdict"], d["transfer"]["mean"], d["diff"]["mean"]
    d["diff"]["ci_low"], d["diff"]["ci_high"] = -0.01, 0.03
    c = I.parse_comparison(d)
    assert c.arms[0].mean == pytest.approx(0.92)
    assert c.diff_mean == pytest.approx(0.92 - 0.88)
    assert c.verdict == "inconclusive"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["transfer"]["per_seed"].pop(), "comparison.transfer.per_seed: has 4 values but 5"),
        (lambda d: d["diff"].update(ci_low=0.1, ci_high=0.0), "ci_low 0.1 is above ci_high"),
        (lambda d: d["scratch"]["per_seed"].__setitem__(0, "0.9"), "scratch.per_seed[0]: expected a number"),
        (lambda d: d["scratch"]["per_seed"].__setitem__(0, True), "expected a number"),
        (lambda d: d.pop("scratch"), "missing field 'scratch'"),
    ],
)
def test_comparison_rejects_bad_input(mutate, message: str) -> None:
    d = copy.deepcopy(full_results()["sections"]["comparison"])
    mutate(d)
    with pytest.raises(I.ReportError, match=re.escape(message)):
        I.parse_comparison(d)


def test_nan_and_none_become_missing() -> None:
    d = copy.deepcopy(full_results()["sections"]["comparison"])
    d["transfer"]["per_seed"][1] = float("nan")
    d["scratch"]["per_seed"][2] = None
    c = I.parse_comparison(d)
    assert c.arms[0].per_seed[1] is None and c.arms[1].per_seed[2] is None
    assert I.fmt(None) == "\u2013" and I.fmt(float("inf")) == "\u2013"


def test_label_efficiency_checks_lengths() -> None:
    le = I.parse_label_efficiency(full_results()["sections"]["label_efficiency"])
    assert le.budgets == (10, 50, 100, 500, 1000) and le.crossover == 500
    assert le.diff is not None and le.diff.mean[0] == 0.3 and le.diff.ci_high[1] == pytest.approx(0.27)
    assert le.budget_label == "labelled target examples"
    bad = copy.deepcopy(full_results()["sections"]["label_efficiency"])
    bad["scratch"]["ci_high"] = bad["scratch"]["ci_high"][:3]
    with pytest.raises(I.ReportError, match="scratch.ci_high: has 3 values but 5"):
        I.parse_label_efficiency(bad)
    bad = copy.deepcopy(full_results()["sections"]["label_efficiency"])
    bad["budgets"][0] = 0
    with pytest.raises(I.ReportError, match="positive label counts"):
        I.parse_label_efficiency(bad)


def test_ranking_sorted_by_rank_and_rank_by_checked() -> None:
    r = I.parse_ranking(full_results()["sections"]["ranking"])
    assert r.models == (HOSTILE, "vit_small", "mobilenet") and r.ranks == (1, 2, 3)
    assert r.values[0] == (1.7, -0.4) and r.higher_is_better == (True, True)
    assert r.extra_columns == ("fingerprint", "seconds", "notes") and r.extras[0] == ("bb", 0.7, "fastest")
    with pytest.raises(I.ReportError, match="rank_by"):
        I.parse_ranking({"scores": ["logme"], "rank_by": "leep", "rows": []})


def test_confusion_square_and_accuracy() -> None:
    c = I.parse_confusion({"labels": ["a", "b"], "matrix": [[8, 2], [1, 9]]})
    assert c.accuracy == pytest.approx(17 / 20)
    with pytest.raises(I.ReportError, match="expected 2 rows"):
        I.parse_confusion({"labels": ["a", "b"], "matrix": [[1, 2]]})
    with pytest.raises(I.ReportError, match=r"matrix\[1\]: has 1 values but 2"):
        I.parse_confusion({"labels": ["a", "b"], "matrix": [[1, 2], [3]]})


def test_similarity_and_multitask_parse() -> None:
    s = I.parse_similarity(full_results()["sections"]["similarity"])
    assert [m.name for m in s.measures] == ["mmd", "proxy_a"] and s.measures[1].p_value is None
    assert s.label_relation is not None and len(s.label_relation.col_labels) == 4
    mmd, coral = s.class_conditional
    assert mmd.classes == ("ham", HOSTILE) and mmd.values == (0.1, 0.3) and mmd.counts[1] == (12, 30)
    assert mmd.only_source == ("x",) and mmd.skipped == ("$5 prize$",) and mmd.mean == 0.2
    assert coral.error.startswith("needs at least") and not coral.classes
    m = I.parse_multitask(full_results()["sections"]["multitask"])
    assert m.weightings == ("equal", "uncertainty")
    assert m.rows[1][0] == HOSTILE and m.rows[1][4] == (True, True)
    assert m.rows[1][3] == ((-0.12, -0.03), (-0.12, -0.03))
    assert dict(m.delta_m) == {"equal": -4.1, "uncertainty": -1.2}


def test_big_label_relation_keeps_the_strongest_rows() -> None:
    from transferkit.reports.plots import top_rows

    rows = tuple(f"s{i}" for i in range(50))
    m = I.MatrixInfo(rows, ("a", "b"), tuple((i / 100, 0.0) for i in range(50)))
    top = top_rows(m, limit=5)
    assert top.row_labels == ("s45", "s46", "s47", "s48", "s49") and top.values[0] == (0.45, 0.0)
    assert top_rows(m, limit=60) is m


def test_adaptation_and_pretrain_keep_every_field() -> None:
    sections = full_results()["sections"]
    a = I.parse_adaptation(sections["adaptation"])
    assert a.table.columns == ("model", "seed", "target_accuracy", "selection_scores entropy")
    assert a.details is not None and dict(a.details.rows)["gain_ci"] == [0.02, 0.15]
    p = I.parse_pretrain(sections["pretrain"])
    assert p.curve is not None and p.curve.train_loss == (0.5, 0.3) and p.curve.epoch == (1, 2)
    assert "history" not in dict(p.card.rows) and dict(p.card.rows)["license"] == "MIT"
    assert p.details is not None and dict(p.details.rows) == {"entry": "zoo/tk-mnist-cnn"}


def test_curves_length_mismatch() -> None:
    with pytest.raises(I.ReportError, match="curves.r.val_score: 2 values for 3 epochs"):
        I.parse_curves({"r": {"epoch": [1, 2, 3], "train_loss": [1, 2, 3], "val_score": [1, 2]}})


def test_build_report_info_orders_and_falls_back() -> None:
    res = full_results()
    res["sections"]["confusion_matrix"] = {"labels": ["a"], "matrix": "oops"}
    info = I.build_report_info(res)
    keys = [s.key for s in info.sections]
    assert keys[:3] == ["shipped", "comparison", "label_efficiency"] and keys[-1] == "my_new_command"
    by_key = {s.key: s for s in info.sections}
    bad = by_key["confusion_matrix"]
    assert not bad.known and isinstance(bad.content, I.TableInfo) and "expected 1 rows" in bad.content.note
    assert not by_key["my_new_command"].known
    assert len({s.anchor for s in info.sections}) == len(info.sections)
    assert info.repro.command.startswith("transferkit fit 'data/my file.csv'")
    assert [d.role for d in info.repro.data] == ["target", "source"]
    assert info.repro.other_data is not None and info.repro.other_data.rows[0][0] == "splits"
    assert ("scratch", "beef", "spec=small_cnn, epochs=3") in info.repro.models
    assert info.repro.config is not None and ("epochs", 15) in info.repro.config.rows


# ----------------------------------------------------------------------------- HTML page


def test_page_has_every_section_and_plot(full_page: str) -> None:
    for key in (*I.SECTION_TITLES, "my_new_command"):
        assert f'id="{I.anchor_for(key)}"' in full_page, key
    assert 'id="sec-reproducibility"' in full_page
    # comparison, label efficiency, ranking, similarity (measures, per class, label relation), curves,
    # confusion matrix, pre-training history
    assert len(_svgs(full_page)) == 9
    assert "Plot not drawn" not in full_page
    assert "Transfer helped: +4.0 points accuracy, 95% CI [+2.0, +6.2] over 5 paired seeds." in full_page


def test_page_is_self_contained_and_has_no_script(full_page: str) -> None:
    p = _parse(full_page)
    assert not {"script", "iframe", "object", "embed", "link", "img", "base"} & set(p.tags)
    assert not [a for a in p.attrs if a[1].lower().startswith("on")], "event handler attribute"
    for _tag, name, value in p.attrs:
        if name in ("href", "src", "xlink:href"):
            assert value is not None and (value.startswith("#") or value.startswith("data:image/png")), value
    assert "http-equiv=\"Content-Security-Policy\"" in full_page and "default-src 'none'" in full_page
    assert not re.search(r"(?:src|href)=[\"']?(?:https?:)?//", full_page)
    assert "@import" not in full_page and not re.search(r"url\((?!#)", full_page)  # only in-page refs


def test_hostile_names_are_text_in_html_and_svg(full_page: str) -> None:
    assert "<script>" not in full_page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in full_page
    text = "".join(_parse(full_page).text)
    assert text.count(HOSTILE) >= 8  # header, ranking, curves, confusion, multitask, unknown section, data...
    svg_text = [t for svg in _svgs(full_page) for t in _svg_texts(svg)]
    assert any(HOSTILE in t for t in svg_text), "hostile name missing from the plots"
    assert any("<script>alert(1)</script>"[:20] in t for t in svg_text)
    assert "$5 prize$" in svg_text, "dollar signs must stay literal, not mathtext"
    assert "sms &lt;spam&gt;" in full_page and "resnet18&lt;b&gt;" in full_page
    assert "column &lt;i&gt;name&lt;/i&gt;" in full_page
    assert "Only in source: x" in full_page and "Not computed: needs at least 10 examples" in full_page


def test_unknown_section_key_is_escaped_in_ids_and_titles() -> None:
    res = full_results()
    res["sections"] = {'"><img src=x onerror=alert(1)>': {"a": 1}}
    page = render_report(res)
    assert "<img" not in page and "onerror=alert(1)>" not in page
    assert 'id="sec-img-src-x-onerror-alert-1"' in page


def test_render_is_deterministic_and_round_trips(tmp_path: Path) -> None:
    res = full_results()
    out = write_results(tmp_path, res)
    assert out == tmp_path / "results.json"
    assert read_results(tmp_path) == json.loads(json.dumps(to_jsonable(res)))
    first = (tmp_path / "report.html").read_text(encoding="utf-8")
    (tmp_path / "report.html").unlink()
    assert write_report(tmp_path) == tmp_path / "report.html"
    assert (tmp_path / "report.html").read_text(encoding="utf-8") == first  # same page, byte for byte


def test_minimal_and_empty_results_render() -> None:
    empty = {"schema": SCHEMA, "command": "demo", "sections": {}}
    page = render_report(empty)
    assert "no result sections" in page and "transferkit demo" in page and not _svgs(page)
    ranking = full_results()["sections"]["ranking"]
    only = {"schema": SCHEMA, "command": "rank", "sections": {"ranking": ranking}}
    assert len(_svgs(render_report(only))) == 1


def test_a_failing_plot_becomes_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    from transferkit.reports import plots

    def boom(*_a: object) -> str:
        raise RuntimeError("no <b>luck</b>")

    monkeypatch.setattr(plots, "ranking_bars", boom)
    with pytest.warns(RuntimeWarning, match="report plot boom failed"):
        page = render_report(_subset("ranking", "curves"))
    assert "Plot not drawn (RuntimeError: no &lt;b&gt;luck&lt;/b&gt;)" in page
    assert len(_svgs(page)) == 1  # the curves


def test_unexpected_shapes_never_cost_the_page(monkeypatch: pytest.MonkeyPatch) -> None:
    res = full_results()
    res["sections"]["similarity"]["class_conditional"]["mmd"]["per_class"] = [1, 2]  # not a dict
    info = I.build_report_info(res)
    sim = next(s for s in info.sections if s.key == "similarity")
    assert not sim.known and "class_conditional.mmd.per_class: expected an object" in sim.content.note

    def buggy(_d: object) -> None:
        raise TypeError("unhashable")

    monkeypatch.setitem(I._PARSERS, "curves", buggy)
    curves = next(s for s in I.build_report_info(full_results()).sections if s.key == "curves")
    assert not curves.known and curves.content.note == "Shown as raw data: TypeError: unhashable"

    from transferkit.reports import html as H

    def broken(_c: object) -> str:
        raise KeyError("boom")

    monkeypatch.setitem(H._RENDER, I.RankingInfo, broken)
    with pytest.warns(RuntimeWarning, match="report section 'ranking' failed"):
        page = render_report(_subset("ranking", "curves"))
    assert "This section could not be laid out (KeyError" in page and 'id="sec-curves"' in page


def test_svg_guard_refuses_external_links() -> None:
    import matplotlib.pyplot as plt

    from transferkit.reports.plots import to_svg

    fig, ax = plt.subplots()
    ax.text(0.5, 0.5, "x", url="https://example.invalid/")
    with pytest.raises(RuntimeError, match="external link"):
        to_svg(fig)


# ----------------------------------------------------------------------------- terminal


def test_terminal_summary_prints_text_literally() -> None:
    res = full_results()
    res["sections"]["ranking"]["rows"][0]["model"] = "[bold red]boom[/]"
    con = Console(record=True, width=220, color_system=None)
    print_summary(res, con)
    out = con.export_text()
    assert "Transfer helped: +4.0 points accuracy, 95% CI [+2.0, +6.2] over 5 paired seeds." in out
    assert "[bold red]boom[/]" in out and HOSTILE in out
    assert "crossover at 500 labelled target examples" in out and "accuracy 0.915" in out
    assert "0.3 [0.28, 0.32]" in out  # the per-budget gain with its interval


def test_run_summary_falls_back_to_every_section_when_the_command_tables_cannot_be_built() -> None:
    from transferkit.reports.terminal import print_run_summary

    res = _subset("comparison", "ranking")  # a "fit" run without its label-efficiency section
    con = Console(record=True, width=220, color_system=None)
    print_run_summary(res, con)
    out = con.export_text()
    assert "the fit summary failed (KeyError" in out
    assert "Transfer helped: +4.0 points accuracy" in out and HOSTILE in out


def test_one_verdict_style_everywhere() -> None:
    from transferkit.reports.terminal import VERDICT_STYLE, verdict_style

    assert set(VERDICT_STYLE) == {"positive", "inconclusive", "negative"}
    assert verdict_style("adaptation helped") == VERDICT_STYLE["positive"]
    assert verdict_style("negative transfer") == VERDICT_STYLE["negative"]
    assert verdict_style("unverified") == verdict_style(None) == VERDICT_STYLE["inconclusive"]


def test_finish_run_writes_results_once_and_renders_from_memory(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Only `transferkit report RUN` reads results.json back; a finishing run renders what it holds."""
    import transferkit._io
    import transferkit.reports.html
    import transferkit.reports.tracking
    from transferkit.reports.run import finish_run

    def no_reading(*_a: object) -> None:
        raise AssertionError("results.json was read back")

    for mod in (transferkit._io, transferkit.reports.html, transferkit.reports.tracking):
        monkeypatch.setattr(mod, "read_results", no_reading)
    res = _subset("comparison", "ranking")
    mlflow = None
    try:
        import mlflow as _  # noqa: F401

        mlflow = (tmp_path / "mlruns").as_uri()
    except ImportError:
        pass
    con = Console(record=True, width=220, color_system=None)
    page = finish_run(tmp_path / "run", res, mlflow, con, seconds=3.2)
    assert page == tmp_path / "run" / "report.html" and page.exists()
    monkeypatch.undo()
    assert read_results(tmp_path / "run") == json.loads(json.dumps(to_jsonable(res)))
    assert page.read_text(encoding="utf-8") == render_report(read_results(tmp_path / "run"))
    out = con.export_text()
    assert f"results: {tmp_path / 'run' / 'results.json'} (3 s)" in out and "report:  " in out
    assert ("mlflow:  run" in out) == (mlflow is not None)


# ----------------------------------------------------------------------------- MLflow


def test_flatten_metrics_steps_and_keys() -> None:
    metrics, tags = flatten_metrics(full_results())
    by: dict[str, list[tuple[float, int]]] = {}
    for k, v, s in metrics:
        by.setdefault(k, []).append((v, s))
        assert re.fullmatch(r"[A-Za-z0-9_.\- /]+", k), k
    assert by["curves/transfer seed 0/train_loss"] == [(0.9, 1), (0.5, 2), (0.3, 3)]
    assert by["label_efficiency/transfer/mean"][-1] == (0.92, 1000)
    assert by["ranking/rows/vit_small/logme"] == [(1.2, 0)]
    assert by["comparison/diff/ci_low"] == [(0.02, 0)]
    hostile_key = "ranking/rows/_script_alert_1_script_/logme"
    assert by[hostile_key] == [(1.7, 0)]
    assert tags["transferkit.comparison.verdict"] == "positive"


def test_log_run_to_local_file_store(tmp_path: Path) -> None:
    pytest.importorskip("mlflow", reason="mlflow is an optional extra: pip install 'transferkit[mlflow]'")
    from mlflow.tracking import MlflowClient

    from transferkit.reports.tracking import log_run

    run_dir = tmp_path / "run"
    write_results(run_dir, _subset("comparison", "curves"))
    uri = (tmp_path / "mlruns").as_uri()
    before = os.environ.get("MLFLOW_ALLOW_FILE_STORE")
    rid = log_run(run_dir, uri)
    assert os.environ.get("MLFLOW_ALLOW_FILE_STORE") == before
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        client = MlflowClient(tracking_uri=uri)
        run = client.get_run(rid)
        arts = {a.path for a in client.list_artifacts(rid)}
        hist = client.get_metric_history(rid, "curves/transfer seed 0/val_score")
    finally:
        if before is None:
            os.environ.pop("MLFLOW_ALLOW_FILE_STORE")
    assert run.info.status == "FINISHED"
    assert run.data.params["command"] == "fit" and run.data.params["seeds"] == "0,1,2,3,4"
    assert run.data.params["data/target/fingerprint"] == "abc123"
    assert run.data.metrics["comparison/diff/mean"] == pytest.approx(0.04)
    assert sorted((m.step, m.value) for m in hist) == [(1, 0.8), (2, 0.88), (3, 0.9)]
    assert {"report.html", "results.json"} <= arts


# ----------------------------------------------------------------------------- CLI


def _report_cli(*args: str):
    """Invoke ``transferkit report ARGS`` on the real app."""
    from typer.testing import CliRunner

    from transferkit.cli import app

    return CliRunner().invoke(app, ["report", *args], terminal_width=200)


def test_cli_report_rebuilds_page(tmp_path: Path) -> None:
    write_results(tmp_path, _subset("comparison", "ranking"))
    (tmp_path / "report.html").unlink()
    res = _report_cli(str(tmp_path))
    assert res.exit_code == 0, res.output
    assert (tmp_path / "report.html").exists()
    assert "Transfer helped: +4.0 points accuracy" in res.output and HOSTILE in res.output


def test_cli_report_explains_a_missing_folder(tmp_path: Path) -> None:
    res = _report_cli(str(tmp_path / "nope"))
    assert res.exit_code == 2
    assert "results.json not found" in " ".join(res.output.split())
    (tmp_path / "results.json").write_text('{"x": 1}', encoding="utf-8")
    res = _report_cli(str(tmp_path))
    assert res.exit_code == 3 and "not a transferkit results file" in " ".join(res.output.split())  # bad data
