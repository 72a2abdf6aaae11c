"""The scan car's onboard process."""

__version__ = "0.1.0"
