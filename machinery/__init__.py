"""The book's machinery: execute labs, stamp their provenance, check and summarise them.

Never imported by a lab; it may read :mod:`helpers`, which never imports it. From the
repository root::

    python -m machinery run labs/ --profile cpu --jobs 2  # execute and stamp labs
    python -m machinery check --times             # stale or unstamped labs
    python -m machinery sync-colab                # each lab's Colab cell
    python -m machinery summary                   # book/reproduction_summary.md
    python -m machinery gpu --help                # labs on the air-gapped GPU

Modules: :mod:`~machinery.notebooks` (reading, writing, locking notebooks),
:mod:`~machinery.colab`, :mod:`~machinery.environment` (where a kernel runs),
:mod:`~machinery.timing`, :mod:`~machinery.stamp`, :mod:`~machinery.runner`,
:mod:`~machinery.check`, :mod:`~machinery.summary` (with :mod:`~machinery.verdicts`,
the stored tables checked and read under the current rule, and
:mod:`~machinery.summary_figure`) and :mod:`machinery.gpu`. Importing
this package (and its ``__main__``) needs the standard library only, so that
``python -m machinery gpu run-labs`` works on a machine without the wheels installed.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the repository: helpers/, labs/, book/


class MachineryError(Exception):
    """A notebook, setting or lock the machinery cannot use; the message names it."""
