"""Transitional: the old names the stored pages call still find their new homes
(helpers/_moved.py), until each lab issue switches its page to the new ones."""

import importlib

import pytest

import helpers

MODULES = ["helpers.plots", "helpers.models_keras"]


@pytest.mark.parametrize("module", MODULES)
def test_every_moved_name_is_the_object_in_its_new_home(module):
    old = importlib.import_module(module)
    assert old.MOVED, f"{module} moves nothing: remove its MOVED block"
    for name, home in old.MOVED.items():
        new = importlib.import_module(home)
        expected = new if home.rpartition(".")[2] == name else getattr(new, name)
        assert getattr(old, name) is expected, f"{module}.{name}"
        assert name not in vars(old), f"{module}.{name} is defined twice"


def test_an_unknown_name_still_fails():
    with pytest.raises(ImportError, match="cannot import name 'nope'"):
        from helpers.plots import nope  # noqa: F401


def test_names_whose_last_page_switched_are_gone():
    from helpers import plots, transfer_torch

    for module, name in [
        (helpers, "keras_basics"),
        (plots, "plot_embedding"),
        (plots, "ascent_curves"),
        (transfer_torch, "two_class_representations"),
    ]:
        with pytest.raises(AttributeError):
            getattr(module, name)


def test_basenet_still_takes_the_options_the_ablation_page_passes():
    from helpers import ablation, models_keras

    net = models_keras.basenet(25, **models_keras.R4_NET_1)
    assert net.count_params() == ablation.r4_net(25, **ablation.R4_NET_1).count_params()
    assert net.count_params() == 581_365
    assert models_keras.basenet(num_classes=10).count_params() == 23_432
