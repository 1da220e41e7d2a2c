"""trainlab: make deep neural networks train, and see why they do or don't."""

__version__ = "0.1.0"
