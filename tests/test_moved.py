"""Names that moved out of a module are gone from it, once no stored page calls them by
the old name any more (no aliases left behind)."""

import pytest

import helpers


def test_names_whose_last_page_switched_are_gone():
    from helpers import models_keras, plots, transfer_torch

    for module, name in [
        (helpers, "keras_basics"),
        (plots, "plot_embedding"),
        (plots, "ascent_curves"),
        (plots, "curve_panels"),
        (transfer_torch, "two_class_representations"),
        (models_keras, "R4_NET_1"),
        (models_keras, "R4_NET_2"),
        (models_keras, "r4_dropout"),
    ]:
        with pytest.raises(AttributeError):
            getattr(module, name)


def test_an_unknown_name_fails_with_python_s_own_error():
    with pytest.raises(ImportError, match="cannot import name 'nope'"):
        from helpers.plots import nope  # noqa: F401


def test_basenet_is_r4_s_net_only():
    """R4's variations are options of ``ablation.r4_net``; ``basenet`` takes none."""
    from helpers import ablation, models_keras

    assert models_keras.basenet(num_classes=10).count_params() == 23_432
    with pytest.raises(TypeError):
        models_keras.basenet(25, **ablation.R4_NET_1)
