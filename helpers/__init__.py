"""Shared plumbing for the Deep Learning Practicals labs.

Importing ``helpers`` first (before Keras or TensorFlow) makes two process-wide settings:

* TensorFlow's C++ start-up chatter is silenced, so stored notebook outputs stay short.
* ``triton`` is loaded before TensorFlow can be. With tensorflow 2.21 and torch 2.14/triton 3.8,
  loading triton *after* TensorFlow segfaults (an LLVM clash: ``import keras, torchvision`` on the
  TensorFlow backend). Loading it first is the verified workaround and costs ~0.1 s.
"""
import os as _os
import sys as _sys

_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

if "tensorflow" not in _sys.modules:
    try:
        import triton as _triton  # noqa: F401  (import order matters; see the docstring)
    except ImportError:  # no triton (CPU-only torch builds, macOS, Colab without it): no clash
        pass
