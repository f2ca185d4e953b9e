"""Transfer-learning helpers: frozen features, a trainable backbone view, augmentation,
R2's cached representations."""

import numpy as np
import pytest
import torch

from helpers import pretrained, train, transfer_torch

TINY = dict(size=32, scratch_epochs=1, finetune_epochs=1, batch_size=32)


@pytest.fixture(scope="module")
def random_backbone():
    return pretrained.load("efficientnet-lite0", pretrained=False, device="cpu")


def test_extract_features_pooled_and_unpooled(random_backbone):
    x = np.random.default_rng(0).normal(size=(5, 3, 64, 64)).astype(np.float32)
    pooled = transfer_torch.extract_features(random_backbone, x, batch_size=2)
    maps = transfer_torch.extract_features(
        random_backbone, x, pooled=False, batch_size=2
    )
    assert pooled.shape == (5, 1280) and maps.shape == (5, 1280, 2, 2)
    np.testing.assert_allclose(maps.mean((2, 3)), pooled, rtol=1e-4, atol=1e-5)


def test_frozen_classifier_trains_its_head_only_then_unfreezes(random_backbone):
    net = transfer_torch.BackboneClassifier(
        random_backbone.model, 3, freeze_backbone=True
    )
    trunk_before = {
        k: v.clone() for k, v in net.trunk.state_dict().items()
    }  # BatchNorm statistics too
    head_before = net.head.weight.detach().clone()
    x = torch.randn(8, 3, 32, 32)
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    run = train.fit_torch(
        net,
        ((x, y), None),
        seed=0,
        epochs=2,
        batch_size=4,
        validation_fraction=0,
        device="cpu",
    )
    assert len(run.history["loss"]) == 2
    assert all(
        torch.equal(v, net.trunk.state_dict()[k]) for k, v in trunk_before.items()
    )
    assert not torch.equal(head_before, net.head.weight)
    assert (
        not net.trunk.training
    )  # BatchNorm keeps its ImageNet statistics while frozen
    net.unfreeze().train()
    assert net.trunk.training and all(p.requires_grad for p in net.parameters())
    logits, features = net(x)
    assert logits.shape == (8, 3) and features.shape == (8, 1280)


def test_small_cnn_returns_logits_and_128_features():
    logits, features = transfer_torch.SmallCNN(2)(torch.randn(4, 3, 64, 64))
    assert logits.shape == (4, 2) and features.shape == (4, 128)


def test_random_crop_flip_keeps_shapes_and_is_the_identity_without_crop_or_flip():
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8)
    torch.testing.assert_close(
        transfer_torch.random_crop_flip(x, (1.0, 1.0), flip=False), x
    )
    torch.manual_seed(0)
    out = transfer_torch.random_crop_flip(x)
    assert out.shape == x.shape and not torch.equal(out, x)
    assert x.min() <= out.min() and out.max() <= x.max()  # crops stay inside the image


def test_two_class_representations_keys_shapes_and_disk_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LABS_CACHE_DIR", str(tmp_path))
    reps = transfer_torch.two_class_representations(0, profile="smoke", settings=TINY)
    assert list(reps) == list(transfer_torch.TWO_CLASS_METHODS)
    widths = {
        "scratch": 128,
        "pretrained + SVM": 1280,
        "fine-tuning": 1280,
        "fine-tuning + augmentation": 1280,
    }
    for key, r in reps.items():
        assert r.train_features.shape == (32, widths[key]) and r.val_features.shape == (
            32,
            widths[key],
        )
        assert np.bincount(r.train_labels).tolist() == [16, 16] and np.bincount(
            r.val_labels
        ).tolist() == [16, 16]
        assert 0 <= r.val_accuracy <= 1 and r.description
    assert len(reps["fine-tuning"].history["val_accuracy"]) == 1
    files = list((tmp_path / "representations").glob("*.npz"))
    assert len(files) == 1 and not list((tmp_path / "representations").glob("*.tmp"))

    def no_training(*args, **kwargs):
        raise AssertionError("the second call should come from the cache")

    monkeypatch.setattr(transfer_torch, "_compute", no_training)
    again = transfer_torch.two_class_representations(0, profile="smoke", settings=TINY)
    for key, r in reps.items():
        np.testing.assert_array_equal(again[key].val_features, r.val_features)
        assert (
            again[key].val_accuracy == r.val_accuracy
            and again[key].description == r.description
        )
        assert again[key].history == r.history
    with pytest.raises(AssertionError, match="cache"):  # another seed is another entry
        transfer_torch.two_class_representations(1, profile="smoke", settings=TINY)
    with pytest.raises(AssertionError, match="cache"):  # refresh: computed anew
        transfer_torch.two_class_representations(
            0, profile="smoke", settings=TINY, refresh=True
        )


def test_heads_for_pooled_and_unpooled_features():
    linear, mlp = (
        transfer_torch.dense_head(1280, 5),
        transfer_torch.dense_head(1280, 5, hidden=1024),
    )
    assert sum(p.numel() for p in linear.parameters()) == 1280 * 5 + 5
    assert sum(p.numel() for p in mlp.parameters()) == 1280 * 1024 + 1024 + 1024 * 5 + 5
    assert mlp(torch.randn(3, 1280)).shape == (3, 5)


def test_conv_head_has_r4s_layers_and_sizes():
    """R4's Cuadro 6 on ResNet50's 7x7 maps: 3x3 valid → 5x5, 12,800 → 1024 → 200."""
    conv = transfer_torch.ConvHead(2048, 200, (7, 7))
    assert conv.dense[0].in_features == 5 * 5 * 512
    conv_weights = 2048 * 9 * 512 + 512 + 2 * 512  # Conv2D, BatchNorm's scale, shift
    dense_weights = 12_800 * 1024 + 1024 + 2 * 1024 + 1024 * 200 + 200
    assert sum(p.numel() for p in conv.parameters()) == conv_weights + dense_weights
    kinds = [type(m).__name__ for m in [*conv.conv, *conv.dense]]
    assert kinds == [
        "Conv2d", "ReLU", "BatchNorm2d", "Dropout", "Flatten",
        "Linear", "ReLU", "BatchNorm1d", "Dropout", "Linear",
    ]  # fmt: skip
    small = transfer_torch.ConvHead(1280, 5, (4, 4))  # EfficientNet-Lite0 at 128 px
    assert small.eval()(torch.randn(3, 1280, 4, 4)).shape == (3, 5)
    with pytest.raises(ValueError, match="does not fit feature maps of 2x2"):
        transfer_torch.ConvHead(1280, 5, (2, 2))


def test_classifier_starts_from_a_copy_of_a_trained_mlp_head(random_backbone):
    mlp = transfer_torch.dense_head(1280, 5, hidden=64)
    net = transfer_torch.BackboneClassifier(random_backbone.model, 5, head=mlp)
    assert net.head is not mlp  # a copy: training the net leaves the given head alone
    for mine, given in zip(net.head.parameters(), mlp.parameters()):
        assert torch.equal(mine, given)
    net.eval()
    x = torch.randn(2, 3, 32, 32)
    logits, features = net(x)
    torch.testing.assert_close(logits, mlp.eval()(features))


def test_frozen_batchnorm_keeps_imagenet_statistics_while_the_weights_learn():
    fresh = lambda: pretrained.load(
        "efficientnet-lite0", pretrained=False, device="cpu"
    )  # noqa: E731
    net = transfer_torch.BackboneClassifier(fresh(), 2, frozen_batchnorm=True)
    bn = net.trunk.model._bn0
    stats, weights = (
        bn.running_mean.clone(),
        net.trunk.model._conv_stem.weight.detach().clone(),
    )
    x, y = torch.randn(8, 3, 32, 32), torch.tensor([0, 1] * 4)
    train.fit_torch(
        net,
        ((x, y), None),
        seed=0,
        epochs=1,
        batch_size=4,
        validation_fraction=0,
        device="cpu",
    )
    assert torch.equal(bn.running_mean, stats) and not bn.training
    assert not torch.equal(
        net.trunk.model._conv_stem.weight, weights
    )  # the convolutions did learn
    moving = transfer_torch.BackboneClassifier(fresh(), 2, batchnorm_momentum=0.1)
    assert {
        m.momentum for m in moving.modules() if isinstance(m, torch.nn.BatchNorm2d)
    } == {0.1}


# --- The representations cache: a bad entry is computed again, never a crash ----------
def fake_result(value: float = 0.5) -> dict[str, transfer_torch.Representation]:
    """Four small representations, as _compute returns them (without
    training anything)."""
    features, labels = np.full((4, 3), value, np.float32), np.array([0, 1, 0, 1])
    return {
        key: transfer_torch.Representation(
            features, labels, features, labels, value, key, {"loss": [1.0, value]}
        )
        for key in transfer_torch.TWO_CLASS_METHODS
    }


@pytest.fixture
def counted_compute(tmp_path, monkeypatch):
    """An empty cache, and a _compute that counts its calls (each returns a
    fresh result)."""
    monkeypatch.setenv("LABS_CACHE_DIR", str(tmp_path))
    calls = []

    def compute(seed, profile, settings):
        calls.append(seed)
        return fake_result(0.25 * len(calls))

    monkeypatch.setattr(transfer_torch, "_compute", compute)
    return calls


def entry_path(seed=0):
    settings = transfer_torch.two_class_settings("smoke", **TINY)
    return transfer_torch._cache_path(seed, "smoke", settings)


@pytest.mark.parametrize(
    "fault",
    ["empty", "truncated", "not a zip", "no entries", "a folder"],
)
def test_a_bad_cache_entry_is_computed_again_and_replaced(counted_compute, fault):
    reps = lambda: transfer_torch.two_class_representations(  # noqa: E731
        0, profile="smoke", settings=TINY
    )
    first = reps()
    path = entry_path()
    good = path.read_bytes()
    if fault == "a folder":
        path.unlink()
        path.mkdir()
    elif fault == "no entries":  # a valid .npz, without the four methods
        np.savez(path, unrelated=np.zeros(1))
    else:
        cut = {
            "empty": b"",
            "truncated": good[: len(good) // 2],
            "not a zip": b"<html>",
        }
        path.write_bytes(cut[fault])
    with pytest.warns(UserWarning) as warned:
        again = reps()
    assert f"{path} cannot be read" in str(warned[0].message)
    if fault == "a folder":  # left alone, and said so
        assert "could not be cached" in str(warned[1].message) and path.is_dir()
    assert len(counted_compute) == 2 and again["scratch"].val_accuracy == 0.5
    assert first["scratch"].val_accuracy == 0.25
    if fault != "a folder":  # replaced atomically by the new result, no temporary left
        assert transfer_torch._load(path)["scratch"].val_accuracy == 0.5
        assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
        reps()
        assert len(counted_compute) == 2  # served from the repaired entry


def test_the_cache_key_follows_all_the_helpers_source(monkeypatch):
    from helpers import provenance

    before = entry_path()
    monkeypatch.setattr(provenance, "helpers_hash", lambda: "another version")
    assert entry_path() != before and entry_path().parent == before.parent


def test_a_cache_that_cannot_be_written_still_returns_the_result(
    tmp_path, monkeypatch, counted_compute
):
    blocker = tmp_path / "a-file"
    blocker.write_text("keep me")
    monkeypatch.setenv("LABS_CACHE_DIR", str(blocker))
    with pytest.warns(UserWarning, match="could not be cached .*LABS_CACHE_DIR"):
        reps = transfer_torch.two_class_representations(
            0, profile="smoke", settings=TINY
        )
    assert reps["scratch"].val_accuracy == 0.25 and blocker.read_text() == "keep me"


def test_two_class_cached_says_whether_the_next_call_trains(counted_compute):
    cached = lambda seed: transfer_torch.two_class_cached(  # noqa: E731
        seed, profile="smoke", settings=TINY
    )
    assert not cached(0)
    transfer_torch.two_class_representations(0, profile="smoke", settings=TINY)
    assert cached(0) and not cached(1) and len(counted_compute) == 1
