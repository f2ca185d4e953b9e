"""pytest configuration for the labs: nbval executes every notebook in the
smoke profile.

Set at import time, so the notebook kernels (separate processes started by nbval)
inherit it; an explicit LABS_PROFILE in the environment wins.
"""

import os

os.environ.setdefault("LABS_PROFILE", "smoke")
