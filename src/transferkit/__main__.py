"""``python -m transferkit ...``: the same as the ``transferkit`` command."""

from transferkit.cli import app

if __name__ == "__main__":
    app(prog_name="transferkit")
