"""mailbag: a fast, keyboard-first terminal email client."""

__version__ = "0.1.0"
