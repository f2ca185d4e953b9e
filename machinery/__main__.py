"""The machinery's command line: ``python -m machinery run|check|sync-colab|summary``
for the book, ``python -m machinery gpu ...`` for the air-gapped GPU machine.

``run`` executes each notebook in place (outputs stored in the file) and records in its
metadata the profile, the device, library versions, Keras backend, wall time and where
it went (per ``## `` section), a hash of the code cells, a hash of the helpers and the
SHA-256 of every data file the run read; a short provenance note goes into the page,
right under the title. A lab that fails is left exactly as it was and the others still
run; a table at the end says which failed. With ``--jobs N``, N labs run at once, each
kernel limited to its share of the cores (recorded in the provenance). One process at a
time executes a notebook (a lock in the temp folder); one edited meanwhile is not
overwritten (the executed copy goes beside it). Ctrl-C or SIGTERM stops the batch,
workers and kernels too, and the table says what was executed, interrupted or never
started. A lab that renders letters is refused outside ``smoke`` when no handwriting
font is installed (the message gives the ``apt-get install`` line); the font families a
lab drew letters from are stamped. Without ``--profile``, an exported ``LABS_PROFILE``
is used. Relative ``LABS_DATA_DIR`` and ``LABS_CACHE_DIR`` are taken relative to where
``run`` is started.

    python -m machinery run labs/ --profile cpu           # one lab after another
    python -m machinery run labs/ --profile cpu --jobs 2  # two at a time, longest first
    python -m machinery run labs/tsne.ipynb --profile-time
    python -m machinery check --times    # every lab: executed, stamped, not stale
    python -m machinery sync-colab       # each lab's Colab cell from _config.yml
    python -m machinery summary          # write book/reproduction_summary.md
    python -m machinery gpu --help       # wheels, bundle, run-labs, unpack

Only the standard library is imported here; each command imports what it needs.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from . import MachineryError
from .gpu.commands import add_gpu_parser


def _profile_arg(name: str) -> str:
    from helpers import profile as profiles

    try:
        return profiles.validate(name)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _jobs_arg(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number, 1 or more")
    return int(text)


def _add_run_parser(sub) -> None:
    run = sub.add_parser("run", help="execute labs in a profile and stamp provenance")
    run.set_defaults(handler="machinery.runner:run_command")
    run.add_argument("notebooks", nargs="+", help="notebooks or folders of notebooks")
    run.add_argument(
        "--profile",
        type=_profile_arg,
        default=None,
        help="smoke, cpu or full (default: $LABS_PROFILE, else full with a GPU, "
        "else cpu)",
    )
    run.add_argument(
        "--timeout", type=int, default=None, help="seconds per cell (default: none)"
    )
    run.add_argument(
        "--jobs",
        type=_jobs_arg,
        default=1,
        help="labs executed at once, the cores shared out between them (default 1)",
    )
    run.add_argument(
        "--profile-time",
        action="store_true",
        help="print where the time went: seconds per phase and `## ` section",
    )


def _add_book_parsers(sub) -> None:
    _add_run_parser(sub)
    check = sub.add_parser(
        "check", help="report labs with unexecuted, unstamped or stale outputs"
    )
    check.set_defaults(handler="machinery.check:check_command")
    check.add_argument("notebooks", nargs="*", help="default: every lab")
    check.add_argument(
        "--times", action="store_true", help="print where each lab's time went"
    )
    sync = sub.add_parser("sync-colab", help="rewrite each lab's Colab cell")
    sync.set_defaults(handler="machinery.colab:sync_colab_command")
    sync.add_argument("notebooks", nargs="*", help="default: every lab")
    summary = sub.add_parser(
        "summary", help="write book/reproduction_summary.md from the labs' tables"
    )
    summary.set_defaults(handler="machinery.summary:summary_command")


def parser() -> argparse.ArgumentParser:
    """The command line's parser: the book's commands and ``gpu``'s."""
    main_parser = argparse.ArgumentParser(
        prog="python -m machinery",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = main_parser.add_subparsers(dest="command", required=True)
    _add_book_parsers(sub)
    add_gpu_parser(sub)
    return main_parser


def main(argv=None) -> int:
    """Run one command; a :class:`MachineryError` is one line on stderr, exit 2; an
    interrupt that no command handles, one line too, exit 128 + the signal."""
    args = parser().parse_args(argv)
    module, name = args.handler.split(":")
    command = getattr(importlib.import_module(module), name)
    try:
        return command(args)
    except MachineryError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:
        print(f"stopped by {e or 'SIGINT'}", file=sys.stderr)
        return 128 + getattr(e, "signum", 2)


if __name__ == "__main__":
    sys.exit(main())
