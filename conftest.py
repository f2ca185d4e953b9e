"""Root pytest configuration: this checkout's helpers come first, for tests and
notebook kernels.

``pip install -r requirements.txt`` installs the helpers in editable mode, pointing at
whichever checkout ran it last. Putting this checkout on ``PYTHONPATH`` (inherited by
nbval's kernels and by subprocesses) makes every test use the code it is testing.
"""

import os
import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parent)
sys.path.insert(0, ROOT)
os.environ["PYTHONPATH"] = os.pathsep.join(
    [ROOT] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
)
