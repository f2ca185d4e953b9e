"""Execute labs at full size on the air-gapped GPU machine: bundle here, run there,
unpack here.

That machine (Python 3.12, x86_64, torch + CUDA, JAX, numpy, scikit-learn, matplotlib,
...) has no network and lacks Keras, the Jupyter execution stack, openTSNE and
torchinfo. From the repository root, here::

  python3 -m machinery gpu wheels --dest .whl
      downloads cp312/abi3/pure-Python manylinux x86_64 wheels of exactly what the GPU
      machine lacks, found by reading Requires-Dist from each wheel's METADATA and
      stopping at what it already has; writes .whl/requirements.lock (what was bundled)
      and .whl/present-needs.txt (what the bundle needs from the machine's own packages,
      checked there by `gpu check`).
  python3 -m machinery gpu bundle --labs labs/a.ipynb labs/b.ipynb [--without cifar100]
      reads from each lab's provenance stamp the data files it read (with their
      SHA-256), prints the sizes (working tree + wheels + each data set against the
      64 MiB cap), and when they fit builds .bundle/{wheels,data,manifest.json}: the
      wheels from --wheels (.whl, built above), the data copied from LABS_DATA_DIR (or
      the cache) and checked against the stamps; then prints the run tool's command,
      carry and timeout_s. --measure prints the sizes only. The EfficientNet wheels
      (17 MB) go only with labs whose stamps list its weights, openTSNE only with labs
      whose code uses it. A data set the labs fall back without can be left out:
      --without.
  python3 -m machinery gpu data --lab labs/NAME.ipynb --dest .bundle/data
      copies only that lab's data (as its stamp lists it), with SHA256SUMS.

There (the run tool; carry [".bundle"]), standard library only until the wheels are in:

  python3 -m machinery gpu run-labs --bundle .bundle --out "$OUT" --deadline-s 540
      installs the wheels into /tmp/site, checks the data sums, runs each lab as its own
      `python -m machinery run LAB --profile P` (KERAS_BACKEND=torch), --workers at a
      time; stops the labs still running --margin-s before the deadline; packs into
      $OUT summary.json (finished / failed / cut / not-started), logs.tar.gz and
      notebooks.tar.gz (the finished labs only; split into .partNN files over 15 MiB).
      --no-install uses this Python's packages (the local test: the wheels are cp312).
  python3 -m machinery gpu check --dest .whl
      checks the machine's own packages meet the bundled wheels' requirements.

Back here:

  python3 -m machinery gpu unpack FILES_AT
      puts the notebooks of the labs that finished back into labs/: only the labs of
      .bundle/manifest.json, each only as an executed, stamped notebook of the code it
      was bundled with, not over a notebook changed here since it was bundled (unless
      --force); the logs go to .bundle/logs.

One lab by hand (the `run` tool; carry [".whl", ".bundle"]); the kernel's cwd is labs/,
so the paths exported are absolute:

  set -o pipefail; python3 -m pip install -q --no-index --no-deps --no-compile \
--no-cache-dir --upgrade --target /tmp/site .whl/*.whl && \
export PYTHONPATH=/tmp/site:$PWD || exit; \
python3 -m machinery gpu check --dest .whl; \
(cd .bundle/data && sha256sum -c --quiet SHA256SUMS) || exit; \
export KERAS_BACKEND=torch LABS_DATA_DIR=$PWD/.bundle/data \
LABS_OFFLINE=1 PYTHONUNBUFFERED=1; \
python3 -m machinery run labs/NAME.ipynb --profile full 2>&1 \
| tee $OUT/run.log; rc=$?; cp labs/NAME.ipynb $OUT/; exit $rc

Modules: :mod:`.wheels` and :mod:`.data` and :mod:`.bundle` (here),
:mod:`.device` (there: the standard library and ``packaging`` only), :mod:`.unpack`
(here), :mod:`.commands` (the ``gpu`` command line). This package holds what they
share: the bundle's file names and the device tool's limits.
"""
# The by-hand command above: each of its lines but the last ends with a backslash, which
# joins them in __doc__, so --help and print_device_command show it on one line; its
# lines after the first start at column 0 so that no spaces are added.

import hashlib
import json

MIB = 1 << 20
TRAVEL_LIMIT_MIB = 64  # the device tool's cap on what travels: tree + carried paths
OUT_MAX_FILES = 8  # the device tool's limits on what comes back from $OUT
OUT_MAX_FILE = 16 * MIB
OUT_MAX_TOTAL = 64 * MIB
PART = 15 * MIB  # a notebooks archive over this is split into parts of this size
LOG_TAIL = 2 * MIB  # the end of a lab's log that comes back
DEFAULT_DEADLINE_S = 540  # the run tool's 600 s limit, less start-up and transfers
MANIFEST = "manifest.json"  # in the bundle: the labs, profile, workers, data, wheels
SUMMARY = "summary.json"  # in $OUT: what became of each lab
STATUSES = ("finished", "failed", "cut", "not-started")


def file_sha256(path) -> str:
    """The SHA-256 of the file at ``path``, read in blocks."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def print_device_command(lab: str, wheels: str = ".whl", bundle: str = ".bundle"):
    """Print the by-hand command of the docstring above for ``lab``, with the folders
    to carry."""
    line = next(
        x.strip() for x in __doc__.splitlines() if x.strip().startswith("set -o")
    )
    line = line.replace("labs/NAME.ipynb", lab).replace(
        ".whl/", wheels.rstrip("/") + "/"
    )
    print(f"\nOn the device (run tool, carry {json.dumps([wheels, bundle])}):\n{line}")
