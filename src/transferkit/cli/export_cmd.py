"""``transferkit export MODEL --format onnx``: a shipped model as an ONNX graph (and a JSON sidecar).

Calls :func:`transferkit.experiments.export.export_model`.
"""

from __future__ import annotations

import typer

from transferkit.cli._app import app, console
from transferkit.cli._common import friendly_errors


@app.command("export")
@friendly_errors
def export(
    model: str = typer.Argument(..., help="Shipped model folder (RUN/model, or a --save DIR)."),
    fmt: str = typer.Option("onnx", "--format", help="Export format (onnx)."),
    out: str | None = typer.Option(None, "--out", "-o", metavar="FILE", help="File to write (default MODEL/model.onnx)."),
    opset: int = typer.Option(17, metavar="N", help="ONNX opset version."),
) -> None:
    """Export a shipped model for serving without transferkit (inputs and outputs described beside it)."""
    from transferkit.experiments.export import export_model

    info = export_model(model, out, fmt, opset)
    console.print(f"{info['format']} graph written to {info['file']} (inputs {info['inputs']}; "
                  f"{info['input_note']}); description: {info['file'].rsplit('.', 1)[0]}.json", highlight=False)
    if info.get("tokenizer"):
        console.print(f"tokenizer files: {info['tokenizer']}", highlight=False)
