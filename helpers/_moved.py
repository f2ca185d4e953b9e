"""Transitional: the one way an old name keeps working after a move.

The stored pages call some helpers by the names they had when the pages were executed
(``plots.curve_panels``, ``models_keras.R4_NET_1``,
...). A module that lost names lists them in a ``MOVED`` dict and sets
``__getattr__ = moved(__name__, MOVED)``: an old name then finds its new home, imported
on first use. Each lab issue switches its page to the new homes; when no page uses an
old name any more, its line in ``MOVED`` goes, and with the last line the block.
"""

from __future__ import annotations

import importlib


def moved(module: str, names: dict[str, str]):
    """A module ``__getattr__`` for ``module``: ``names[old]`` is the dotted path of
    the module that now holds ``old`` under the same name, or, for a moved module, its
    new dotted path (whose last part is ``old``)."""

    def __getattr__(name: str):
        if name not in names:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        home = importlib.import_module(names[name])
        return home if names[name].rpartition(".")[2] == name else getattr(home, name)

    return __getattr__
