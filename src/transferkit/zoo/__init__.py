"""The starter zoo: entries this project pre-trained itself (``zoo:mnist-cnn``, ``zoo:har-cnn``,
``zoo:heart-mlp``); rebuild one with ``python scripts/build_zoo.py NAME``."""
