"""transferkit: choose a pretrained model, transfer it, and prove that reuse helped."""

from transferkit._version import __version__

__all__ = ["__version__"]
