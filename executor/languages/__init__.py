"""Languages the executor runs. Each is one small declarative module."""

from . import python

LANGUAGES = {python.NAME: python}

__all__ = ["LANGUAGES", "python"]
