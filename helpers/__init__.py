"""Shared plumbing for the Deep Learning Practicals labs.

Importing ``helpers`` first (before Keras or TensorFlow) makes two
process-wide settings:

* TensorFlow's C++ start-up chatter and its Python warnings (e.g. "triggered tf.function
  retracing", which every freshly built model of a loop over seeds causes) are silenced,
  so stored notebook outputs stay short. Errors still show.
* ``triton`` is loaded before TensorFlow can be. With tensorflow 2.21 and torch
  2.14/triton 3.8, loading triton *after* TensorFlow segfaults (an LLVM clash:
  ``import keras, torchvision`` on the TensorFlow backend). Loading it first is the
  verified workaround and costs ~0.1 s.
"""

import logging as _logging
import os as _os
import sys as _sys

_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# A filter rather than a level: in Jupyter, TensorFlow resets its logger to INFO on
# first use.
_logging.getLogger("tensorflow").addFilter(
    lambda record: record.levelno >= _logging.ERROR
)

if "tensorflow" not in _sys.modules:
    try:
        # import order matters; see the docstring
        import triton as _triton  # noqa: F401
    except (
        ImportError
    ):  # no triton (CPU-only torch builds, macOS, Colab without it): no clash
        pass
