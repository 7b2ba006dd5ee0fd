"""Optional experiment tracking: log a run folder to MLflow (``--mlflow URI``).

What is logged, from the run's results (``results.json``):

- parameters: the command, its exact command line, seeds, schema, data names/sizes/fingerprints,
  model fingerprints and library versions;
- metrics: every number in ``sections``; a list of numbers becomes one metric with a step per entry
  (the epoch for training curves, the label budget for label-efficiency curves, the index otherwise);
  rows of tables are keyed by their ``model``/``task``/``arm``/``name`` field;
- tags: the text fields of ``sections`` (verdicts, advice), under ``transferkit.``;
- artifacts: ``report.html`` and ``results.json``.

mlflow is an optional extra (``pip install 'transferkit[mlflow]'``; the light ``mlflow-skinny`` is
enough). Recent MLflow refuses its ``file:`` store unless ``MLFLOW_ALLOW_FILE_STORE=true``; passing a
``file:`` URI (or a plain folder) here is taken as that opt-in for the duration of the call.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from transferkit._io import read_results
from transferkit.errors import TransferkitError
from transferkit.reports._info import command_line

_ROW_KEYS = ("model", "task", "arm", "name", "run", "method")
_STEP_KEYS = ("epoch", "budgets", "step")
_BAD = re.compile(r"[^A-Za-z0-9_.\- ]+")


def key_part(name: Any) -> str:
    """One component of an MLflow key: only letters, digits, ``_ . - space``; never ``.`` or ``..``."""
    s = _BAD.sub("_", str(name)).strip()
    if s in ("", ".", ".."):
        s = "_" + s.replace(".", "_")
    return s[:80]


def _key(path: tuple[Any, ...]) -> str:
    return "/".join(key_part(p) for p in path)[:250]


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and abs(v) != float("inf")


def _steps_for(d: dict[str, Any], inherited: list[int] | None) -> list[int] | None:
    for k in _STEP_KEYS:
        v = d.get(k)
        if isinstance(v, list) and v and all(_is_num(x) for x in v):
            return [int(x) for x in v]
    return inherited


def _walk(v: Any, path: tuple[Any, ...], steps: list[int] | None, out: list[tuple[str, float, int]],
          tags: dict[str, str]) -> None:
    if isinstance(v, dict):
        steps = _steps_for(v, steps)
        for k, x in v.items():
            if k not in _STEP_KEYS:
                _walk(x, (*path, k), steps, out, tags)
    elif isinstance(v, list):
        if v and all(isinstance(x, dict) for x in v):
            for i, row in enumerate(v):
                label = next((row[k] for k in _ROW_KEYS if isinstance(row.get(k), (str, int))), i)
                rest = {k: x for k, x in row.items() if k not in _ROW_KEYS}
                _walk(rest, (*path, label), steps, out, tags)
        elif v and all(_is_num(x) or x is None for x in v):
            use = steps if steps is not None and len(steps) == len(v) else list(range(len(v)))
            out.extend((_key(path), float(x), s) for x, s in zip(v, use, strict=True) if x is not None)
    elif _is_num(v):
        out.append((_key(path), float(v), 0))
    elif isinstance(v, str) and v:
        tags["transferkit." + _key(path).replace("/", ".")] = v[:5000]


def flatten_metrics(results: dict[str, Any]) -> tuple[list[tuple[str, float, int]], dict[str, str]]:
    """Numbers of ``results["sections"]`` as ``(key, value, step)`` triples, and text fields as tags."""
    out: list[tuple[str, float, int]] = []
    tags: dict[str, str] = {}
    _walk(results.get("sections") or {}, (), None, out, tags)
    return out, tags


def flatten_params(results: dict[str, Any]) -> dict[str, str]:
    """The run's settings as MLflow parameters (string values, at most 6000 characters each)."""
    p: dict[str, str] = {"command": str(results.get("command", "")),
                         "command_line": command_line(results.get("argv"), str(results.get("command", ""))),
                         "seeds": ",".join(str(s) for s in results.get("seeds") or []),
                         "schema": str(results.get("schema", ""))}
    data = results.get("data") or {}
    if isinstance(data, dict):
        items = [("data", data)] if ("fingerprint" in data or "n" in data) else list(data.items())
        for role, desc in items:
            if isinstance(desc, dict):
                for f in ("name", "n", "fingerprint"):
                    if desc.get(f) is not None:
                        p[_key(("data", role, f))] = str(desc[f])
    for name, fp in (results.get("models") or {}).items():
        if isinstance(fp, dict):
            fp = fp.get("fingerprint", fp)
        p[_key(("model", name))] = str(fp)
    for lib, ver in (results.get("versions") or {}).items():
        p[_key(("version", lib))] = str(ver)
    return {k: v[:6000] for k, v in p.items() if k}


@contextlib.contextmanager
def _file_store_opt_in(uri: str) -> Iterator[None]:
    local = uri.startswith("file:") or ("://" not in uri and not uri.startswith(("sqlite:", "databricks")))
    old = os.environ.get("MLFLOW_ALLOW_FILE_STORE")
    if local:
        os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        yield
    finally:
        if local:
            if old is None:
                os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)
            else:
                os.environ["MLFLOW_ALLOW_FILE_STORE"] = old


def log_run(run_dir: str | os.PathLike[str], uri: str, experiment: str = "transferkit",
            run_name: str | None = None, results: dict[str, Any] | None = None) -> str:
    """Log a run folder (params, metrics, tags, ``report.html`` and ``results.json``) to MLflow at ``uri``.

    ``results``: the run's results dict when the caller holds it (it is what ``results.json`` holds);
    None reads ``results.json``. Returns the MLflow run id. Writes ``report.html`` first when the
    folder has none.
    """
    try:
        from mlflow.entities import Metric, Param, RunTag
        from mlflow.tracking import MlflowClient
    except ImportError as exc:
        raise TransferkitError(
            "--mlflow needs the mlflow package: pip install 'transferkit[mlflow]' (mlflow-skinny is enough)") from exc
    run_dir = Path(run_dir)
    if results is None:
        results = read_results(run_dir)
    report = run_dir / "report.html"
    if not report.exists():
        from transferkit.reports.html import write_report

        write_report(run_dir, results)
    metrics, tags = flatten_metrics(results)
    params = flatten_params(results)
    now = int(time.time() * 1000)
    with _file_store_opt_in(uri):
        client = MlflowClient(tracking_uri=uri)
        exp = client.get_experiment_by_name(experiment)
        exp_id = exp.experiment_id if exp is not None else client.create_experiment(experiment)
        run = client.create_run(exp_id, run_name=run_name or run_dir.name,
                                tags={"transferkit.command": str(results.get("command", ""))})
        rid = run.info.run_id
        try:
            for field, items, size in (("params", [Param(k, v) for k, v in params.items()], 100),
                                       ("tags", [RunTag(k[:250], v) for k, v in tags.items()], 100),
                                       ("metrics", [Metric(k, v, now, s) for k, v, s in metrics], 1000)):
                for i in range(0, len(items), size):  # MLflow's batch limits
                    client.log_batch(rid, **{field: items[i : i + size]})
            client.log_artifact(rid, str(report))
            client.log_artifact(rid, str(run_dir / "results.json"))
        except BaseException:
            client.set_terminated(rid, status="FAILED")
            raise
        client.set_terminated(rid)
    return rid
