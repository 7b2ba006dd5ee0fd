"""Options every command gets when it is registered: ``-q/--quiet``, ``-v/--verbose``, ``-c/--config FILE``.

:func:`with_shared_options` adds them to a command's signature (a command that declares ``quiet``
itself receives it; one that declares ``config``, like ``multitask``, keeps its own meaning of it).

- ``-q`` turns off progress bars and progress messages; ``-v`` shows transferkit's log messages
  (``logging`` at INFO), ``-vv`` at DEBUG with tracebacks of errors and the third-party libraries' own
  messages and bars, which are otherwise silenced (Hugging Face "Loading weights" bars, transformers
  and datasets warnings).
- ``--config FILE`` reads option values from a YAML mapping (``batch-size: 64`` or ``batch_size: 64``;
  a mapping under a command's name applies to that command only); options given on the command
  line override the file.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import sys
import typing
from collections.abc import Callable
from typing import Any

import typer

from transferkit.cli._options import (
    DATA_ROOT_OPTION,
    DEVICE_OPTION,
    LABEL_COLUMN_OPTION,
    QUIET_OPTION,
    TEXT_COLUMN_OPTION,
)

LOGGER = "transferkit"


def _read_config(ctx: typer.Context, param: Any, value: str | None) -> str | None:
    """Eager callback of ``--config``: the file's values become the command's defaults (``ctx.default_map``)."""
    if not value:
        return value
    values = config_values(value, ctx.command, ctx.info_name or "",
                           set(getattr(ctx.parent.command, "commands", {}) if ctx.parent else ()))
    ctx.default_map = {**(ctx.default_map or {}), **values}
    logging.getLogger(LOGGER).info("settings from %s: %s", value, ", ".join(sorted(values)) or "none")
    return value


def config_values(path: str, command: Any, name: str, commands: set[str]) -> dict[str, Any]:
    """Option values for ``command`` from the YAML file ``path``, by parameter name; a key no option of the
    command has (and no other command's section) raises :class:`typer.BadParameter`."""
    import yaml

    from transferkit._io import check_regular_file
    from transferkit.errors import DataError

    try:
        data = yaml.safe_load(check_regular_file(path, "YAML file").read_text(encoding="utf-8"))
    except DataError as exc:  # a named pipe or device: a read would wait forever
        raise typer.BadParameter(str(exc), param_hint="'--config'") from exc
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc.strerror or exc}", param_hint="'--config'") from exc
    except yaml.YAMLError as exc:
        raise typer.BadParameter(f"{path} is not valid YAML: {exc}", param_hint="'--config'") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise typer.BadParameter(f"{path} must hold a mapping of option names to values (e.g. 'seeds: 3')",
                                 param_hint="'--config'")
    section = data.get(name) if isinstance(data.get(name), dict) else {}
    flat = {k: v for k, v in data.items() if not (k in commands and isinstance(v, dict))}
    names = _option_names(command)
    out: dict[str, Any] = {}
    for key, value in {**flat, **section}.items():
        target = names.get(str(key).lstrip("-"))
        if target is None:
            known = ", ".join(sorted(k for k in names if "_" not in k))
            raise typer.BadParameter(f"{path}: {name} has no option {key!r}; its options are {known}",
                                     param_hint="'--config'")
        out[target] = ",".join(map(str, value)) if isinstance(value, (list, tuple)) else value
    return out


def _option_names(command: Any) -> dict[str, str]:
    """Every spelling of every parameter (``batch-size``, ``batch_size``, ``runs``...) -> its name."""
    names: dict[str, str] = {}
    for p in command.params:
        if not p.name or p.name in ("help", "config_file", "verbose"):
            continue
        names[p.name] = names[p.name.replace("_", "-")] = p.name
        for opt in getattr(p, "opts", ()):
            if opt.startswith("--"):
                names[opt[2:]] = p.name
    return names


VERBOSE = typer.Option(0, "--verbose", "-v", count=True, show_default=False,
                       help="More messages: -v transferkit's log, -vv debug with third-party output and tracebacks.")
CONFIG = typer.Option(None, "--config", "-c", metavar="FILE", is_eager=True, callback=_read_config,
                      help="YAML file of option values (e.g. 'seeds: 3'); options on the command line win.")


SCOPED_ENV = ("TRANSFERKIT_DATA", "CUDA_VISIBLE_DEVICES")
"""Environment variables a command sets for its own run (``--data-root``, ``--device``) and puts back when
it returns, so commands run in one process (tests, notebooks) do not leak settings into the next."""


def with_shared_options(f: Callable[..., Any], scoped: bool = True) -> Callable[..., Any]:
    """``f`` with ``-q/--quiet``, ``-v/--verbose`` and ``-c/--config FILE`` added to its signature; the
    wrapper sets up logging and progress output before ``f`` runs and (``scoped``, every command but a
    group's callback, whose settings its sub-command reads) restores :data:`SCOPED_ENV` afterwards."""
    sig = inspect.signature(f, eval_str=True)
    own_quiet, own_config = "quiet" in sig.parameters, "config" in sig.parameters
    extra = [inspect.Parameter("verbose", inspect.Parameter.KEYWORD_ONLY, default=VERBOSE, annotation=int)]
    if not own_quiet:
        extra.append(inspect.Parameter("quiet", inspect.Parameter.KEYWORD_ONLY, default=QUIET_OPTION, annotation=bool))
    if not own_config:
        extra.append(inspect.Parameter("config_file", inspect.Parameter.KEYWORD_ONLY, default=CONFIG,
                                       annotation=str | None))

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        quiet = kwargs["quiet"] if own_quiet else kwargs.pop("quiet", False)
        kwargs.pop("config_file", None)
        configure_output(quiet=bool(quiet), verbose=int(kwargs.pop("verbose", 0) or 0))
        saved = {name: os.environ.get(name) for name in SCOPED_ENV}
        try:
            return f(*args, **kwargs)
        finally:
            for name, value in saved.items() if scoped else ():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    return _extend(wrapper, f, extra)


def reads_data(*specs: str, columns: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a command that reads data ``--data-root DIR`` and ``--device``, and (``columns``) ``--label-column``
    and ``--text-column``, which are applied to its parameters named ``specs`` (``data.csv?label=NAME``).

    The wrapper sets the data root and the device (:func:`~transferkit.cli._common.set_data_root`,
    :func:`~transferkit.cli._common.set_device`) and rewrites the specs before the command runs; errors
    are reported like the command's own when this decorator sits inside ``@friendly_errors``.
    """
    added = {"device": (DEVICE_OPTION, str), "data_root": (DATA_ROOT_OPTION, str | None)}
    if columns:
        added = {"label_column": (LABEL_COLUMN_OPTION, str | None), "text_column": (TEXT_COLUMN_OPTION, str | None),
                 **added}

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from transferkit.cli._common import set_data_root, set_device, with_columns

            set_data_root(kwargs.pop("data_root", None))
            set_device(kwargs.pop("device", "auto"))
            label, text = kwargs.pop("label_column", None), kwargs.pop("text_column", None)
            for name, value in zip(specs, with_columns(label, text, *(kwargs[n] for n in specs))):
                kwargs[name] = value
            return f(*args, **kwargs)

        return _extend(wrapper, f, [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option,
                                                      annotation=kind) for name, (option, kind) in added.items()])

    return decorate


def _extend(wrapper: Callable[..., Any], f: Callable[..., Any], extra: list[inspect.Parameter]) -> Callable[..., Any]:
    """``wrapper`` with ``f``'s signature and annotations plus the ``extra`` parameters (what typer reads)."""
    sig = inspect.signature(f, eval_str=True)
    wrapper.__signature__ = sig.replace(parameters=[*sig.parameters.values(), *extra])  # type: ignore[attr-defined]
    wrapper.__annotations__ = {**typing.get_type_hints(f), **{p.name: p.annotation for p in extra}}
    return wrapper


_THIRD_PARTY = ("transformers", "datasets", "huggingface_hub", "sentence_transformers", "accelerate", "timm",
                "urllib3", "filelock", "PIL")


def configure_output(*, quiet: bool = False, verbose: int = 0) -> None:
    """Logging levels and progress output for one command: ``quiet`` (``-q``), ``verbose`` (``-v`` count).

    transferkit's logger goes to standard error at WARNING (ERROR when quiet, INFO with ``-v``, DEBUG
    with ``-vv``). Below ``-vv`` the third-party libraries' bars and messages are silenced: through
    their environment variables for libraries not yet imported, through their own switches otherwise.
    """
    from transferkit import _progress

    _progress.set_quiet(quiet)
    level = logging.ERROR if quiet else {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logger = logging.getLogger(LOGGER)
    logger.setLevel(level)
    if not any(getattr(h, "_transferkit", False) for h in logger.handlers):
        from rich.console import Console
        from rich.logging import RichHandler

        handler = RichHandler(console=Console(stderr=True, markup=False), show_path=False, show_time=False,
                              markup=False)
        handler._transferkit = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False
    _third_party(loud=verbose >= 2)


def _third_party(loud: bool) -> None:
    """Silence (or, with ``-vv``, let through) the progress bars and log messages of third-party libraries."""
    if loud:
        for name in ("HF_HUB_DISABLE_PROGRESS_BARS", "TRANSFORMERS_VERBOSITY", "DATASETS_VERBOSITY"):
            if os.environ.get(name) == _SET_BY_US.get(name):
                os.environ.pop(name, None)
    else:
        for name, value in _SET_BY_US.items():
            os.environ.setdefault(name, value)
    for name in _THIRD_PARTY:
        logging.getLogger(name).setLevel(logging.DEBUG if loud else logging.ERROR)
    locked = False  # huggingface_hub reads its variable once, at import: then the variable wins over -vv
    if "huggingface_hub" in sys.modules:  # already imported: its switch, not its environment variable
        from huggingface_hub import constants
        from huggingface_hub.utils import disable_progress_bars, enable_progress_bars

        locked = bool(constants.HF_HUB_DISABLE_PROGRESS_BARS)
        if not loud:
            disable_progress_bars()
        elif not locked:
            enable_progress_bars()
    if "transformers" in sys.modules:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_info() if loud else hf_logging.set_verbosity_error()
        if not loud:
            hf_logging.disable_progress_bar()
        elif not locked:
            hf_logging.enable_progress_bar()
    if "datasets" in sys.modules:
        from datasets.utils import logging as ds_logging

        ds_logging.set_verbosity_info() if loud else ds_logging.set_verbosity_error()
        ds_logging.enable_progress_bar() if loud else ds_logging.disable_progress_bar()


_SET_BY_US = {"HF_HUB_DISABLE_PROGRESS_BARS": "1", "TRANSFORMERS_VERBOSITY": "error", "DATASETS_VERBOSITY": "error"}
