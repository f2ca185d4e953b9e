"""The ``gpu`` command line (``python -m machinery gpu ...``): its parsers only, so
that it needs the standard library; each command's module is imported when it runs."""

from __future__ import annotations

import argparse

from . import DEFAULT_DEADLINE_S
from . import __doc__ as GPU_DOC


def add_gpu_parser(sub) -> None:
    """Add ``gpu`` and its commands to the subparsers ``sub`` of the main parser."""
    gpu = sub.add_parser(
        "gpu",
        help="execute labs on the air-gapped GPU machine (wheels, bundle, run-labs...)",
        description=GPU_DOC.split("\n\n")[0],
        epilog=GPU_DOC,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = gpu.add_subparsers(dest="gpu_command", required=True)
    _add_wheels_and_check(commands)
    _add_data(commands)
    _add_bundle(commands)
    _add_run_labs(commands)
    _add_unpack(commands)


def _add_wheels_and_check(commands) -> None:
    w = commands.add_parser("wheels", help="download the wheels the GPU machine lacks")
    w.set_defaults(handler="machinery.gpu.wheels:wheels_command")
    w.add_argument("--dest", default=".whl")
    w.add_argument("--max-mb", type=float, default=40)
    w.add_argument(
        "--all",
        action="store_true",
        help="also bundle what is safe to leave out (ipykernel's debugger, IPython's "
        "completion)",
    )
    c = commands.add_parser(
        "check", help="on the GPU machine: its packages meet the bundle's needs?"
    )
    c.set_defaults(handler="machinery.gpu.device:check_command")
    c.add_argument("--dest", default=".whl")


def _add_data_source(parser) -> None:
    parser.add_argument("--source", help="the data folder (default: $LABS_DATA_DIR)")
    parser.add_argument(
        "--datasets", nargs="*", help="paths under the data folder to add by hand"
    )
    parser.add_argument(
        "--without",
        nargs="*",
        help="data sets or files to leave out (ones the labs fall back without, "
        "e.g. cifar100)",
    )


def _add_data(commands) -> None:
    d = commands.add_parser("data", help="copy the data files one lab's stamp lists")
    d.set_defaults(handler="machinery.gpu.bundle:data_command")
    d.add_argument("--lab", help="labs/NAME.ipynb")
    _add_data_source(d)
    d.add_argument("--dest", default=".bundle/data")
    d.add_argument(
        "--max-mb", type=float, help="default: what the 64 MiB travel cap leaves"
    )
    d.add_argument("--wheels", default=".whl", help="counted against the travel cap")


def _add_bundle(commands) -> None:
    b = commands.add_parser(
        "bundle",
        help="here: wheels, data and manifest for a set of labs, in one folder",
    )
    b.set_defaults(handler="machinery.gpu.bundle:bundle_command")
    b.add_argument(
        "--labs", nargs="+", required=True, help="labs/NAME.ipynb ... or a folder"
    )
    b.add_argument("--dest", default=".bundle")
    b.add_argument("--wheels", default=".whl", help="built by the wheels command")
    _add_data_source(b)
    b.add_argument("--profile", default="full")
    b.add_argument("--workers", type=int, default=4)
    b.add_argument(
        "--order",
        choices=("longest-first", "given"),
        default="longest-first",
        help="the order labs start in: by the wall time their stamps record, or "
        "as given",
    )
    b.add_argument("--deadline-s", type=int, default=DEFAULT_DEADLINE_S)
    b.add_argument(
        "--measure", action="store_true", help="print the sizes only; copy nothing"
    )


def _add_run_labs(commands) -> None:
    r = commands.add_parser(
        "run-labs",
        help="on the GPU machine: install, check, execute the labs in parallel, pack",
    )
    r.set_defaults(handler="machinery.gpu.device:run_labs_command")
    r.add_argument("--bundle", default=".bundle")
    r.add_argument("--repo", default=".", help="the repository root (default: .)")
    r.add_argument("--out", help="default: $OUT")
    r.add_argument("--deadline-s", type=float, default=DEFAULT_DEADLINE_S)
    r.add_argument(
        "--margin-s",
        type=float,
        default=20,
        help="labs still running this long before the deadline are stopped",
    )
    r.add_argument("--labs", nargs="*", help="a subset of the manifest's, by name")
    r.add_argument("--profile", help="default: the manifest's")
    r.add_argument("--workers", type=int, help="default: the manifest's")
    r.add_argument("--site", default="/tmp/site", help="where the wheels go")
    r.add_argument(
        "--no-install", action="store_true", help="use this Python's packages"
    )
    r.add_argument("--no-verify", action="store_true", help="skip the data sums")
    r.add_argument("--python", help="default: this Python")
    r.add_argument("--logs", help="where the labs' logs go (default: BUNDLE/logs)")
    r.add_argument("--poll-s", type=float, default=0.5, help=argparse.SUPPRESS)


def _add_unpack(commands) -> None:
    u = commands.add_parser(
        "unpack", help="here: put the notebooks of the labs that finished into labs/"
    )
    u.set_defaults(handler="machinery.gpu.unpack:unpack_command")
    u.add_argument("source", help="the folder the run tool's files_at names")
    u.add_argument("--repo", default=".")
    u.add_argument(
        "--bundle",
        help="the bundle the labs were sent in: its manifest says which labs may come "
        "back (default: REPO/.bundle)",
    )
    u.add_argument("--logs-dir", default=".bundle/logs")
    u.add_argument(
        "--force", action="store_true", help="also over notebooks changed here since"
    )
