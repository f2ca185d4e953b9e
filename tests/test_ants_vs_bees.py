"""R2's two-class study (helpers.labs.ants_vs_bees): its four representations, its
sizes from the profile, and its cache on disk."""

import sys

import numpy as np
import pytest

from helpers import profile
from helpers.labs import ants_vs_bees

TINY = dict(size=32, scratch_epochs=1, finetune_epochs=1, batch_size=32)

pytestmark = pytest.mark.usefixtures("fits_on_the_cpu")


def test_settings_come_from_the_profile_and_changes_override_them():
    for name in profile.PROFILES:
        s = ants_vs_bees.two_class_settings(name)
        sizes = {k: getattr(s, k) for k in ants_vs_bees.SIZES[name]}
        assert sizes == ants_vs_bees.SIZES[name]
    assert ants_vs_bees.two_class_settings("full") == ants_vs_bees.TWO_CLASS_PRACTICAL
    assert ants_vs_bees.TWO_CLASS_PRACTICAL.size == 224
    mobile = ants_vs_bees.two_class_settings("cpu", backbone="mobilenet", size=96)
    assert (mobile.backbone, mobile.size, mobile.finetune_epochs) == (
        "mobilenet",
        96,
        4,
    )
    with pytest.raises(ValueError, match="'fast' is not a profile"):
        ants_vs_bees.two_class_settings("fast")


def test_two_class_representations_keys_shapes_and_disk_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LABS_CACHE_DIR", str(tmp_path))
    reps = ants_vs_bees.two_class_representations(0, profile="smoke", settings=TINY)
    assert list(reps) == list(ants_vs_bees.TWO_CLASS_METHODS)
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

    monkeypatch.setattr(ants_vs_bees, "_compute", no_training)
    again = ants_vs_bees.two_class_representations(0, profile="smoke", settings=TINY)
    for key, r in reps.items():
        np.testing.assert_array_equal(again[key].val_features, r.val_features)
        assert (
            again[key].val_accuracy == r.val_accuracy
            and again[key].description == r.description
        )
        assert again[key].history == r.history
    with pytest.raises(AssertionError, match="cache"):  # another seed is another entry
        ants_vs_bees.two_class_representations(1, profile="smoke", settings=TINY)
    with pytest.raises(AssertionError, match="cache"):  # refresh: computed anew
        ants_vs_bees.two_class_representations(
            0, profile="smoke", settings=TINY, refresh=True
        )


def fake_result(value: float = 0.5) -> dict[str, ants_vs_bees.Representation]:
    """Four small representations, as _compute returns them (without
    training anything)."""
    features, labels = np.full((4, 3), value, np.float32), np.array([0, 1, 0, 1])
    return {
        key: ants_vs_bees.Representation(
            features, labels, features, labels, value, key, {"loss": [1.0, value]}
        )
        for key in ants_vs_bees.TWO_CLASS_METHODS
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

    monkeypatch.setattr(ants_vs_bees, "_compute", compute)
    return calls


def entry_path(seed=0):
    settings = ants_vs_bees.two_class_settings("smoke", **TINY)
    return ants_vs_bees._cache_path(seed, "smoke", settings)


@pytest.mark.parametrize(
    "fault",
    ["empty", "truncated", "not a zip", "no entries", "a folder"],
)
def test_a_bad_cache_entry_is_computed_again_and_replaced(counted_compute, fault):
    reps = lambda: ants_vs_bees.two_class_representations(  # noqa: E731
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
        assert ants_vs_bees._load(path)["scratch"].val_accuracy == 0.5
        assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
        reps()
        assert len(counted_compute) == 2  # served from the repaired entry


def test_the_cache_key_follows_the_source_of_the_code_that_computes(
    tmp_path, monkeypatch
):
    package = tmp_path / "fake_code"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "steps.py").write_text("EPOCHS = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(ants_vs_bees, "CODE", (*ants_vs_bees.CODE, "fake_code"))
    before = entry_path()
    assert entry_path() == before  # the same code: the same entry
    (package / "steps.py").write_text("EPOCHS = 2\n")  # a module of the package
    assert entry_path() != before and entry_path().parent == before.parent
    monkeypatch.delitem(sys.modules, "fake_code")


def test_a_cache_that_cannot_be_written_still_returns_the_result(
    tmp_path, monkeypatch, counted_compute
):
    blocker = tmp_path / "a-file"
    blocker.write_text("keep me")
    monkeypatch.setenv("LABS_CACHE_DIR", str(blocker))
    with pytest.warns(UserWarning, match="could not be cached .*LABS_CACHE_DIR"):
        reps = ants_vs_bees.two_class_representations(0, profile="smoke", settings=TINY)
    assert reps["scratch"].val_accuracy == 0.25 and blocker.read_text() == "keep me"


def test_two_class_cached_says_whether_the_next_call_trains(counted_compute):
    cached = lambda seed: ants_vs_bees.two_class_cached(  # noqa: E731
        seed, profile="smoke", settings=TINY
    )
    assert not cached(0)
    ants_vs_bees.two_class_representations(0, profile="smoke", settings=TINY)
    assert cached(0) and not cached(1) and len(counted_compute) == 1
