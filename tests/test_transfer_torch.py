"""Transfer-learning helpers: frozen features, a trainable backbone view, heads,
augmentation."""

import numpy as np
import pytest
import torch

from helpers import pretrained, train, transfer_torch

pytestmark = pytest.mark.usefixtures("fits_on_the_cpu")


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
        validation=None,
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
    assert net(x).shape == (8, 3) and net.embedding(x).shape == (8, 1280)


def test_small_cnn_returns_logits_and_embeds_in_128_features():
    net, x = transfer_torch.SmallCNN(2), torch.randn(4, 3, 64, 64)
    assert net(x).shape == (4, 2) and net.embedding(x).shape == (4, 128)


def test_augment_acts_on_training_batches_only(random_backbone):
    seen = []

    def augment(batch):
        seen.append(tuple(batch.shape))
        return batch.flip(-1)

    net = transfer_torch.BackboneClassifier(
        random_backbone.model, 2, freeze_backbone=True, augment=augment
    )
    x, y = torch.randn(10, 3, 32, 32), torch.tensor([0, 1] * 5)
    run = train.fit_torch(
        net, ((x[:6], y[:6]), None), seed=0, epochs=1, batch_size=4, validation=(x, y)
    )
    assert seen == [(4, 3, 32, 32), (2, 3, 32, 32)]  # never the 10 validation images
    assert len(run.history["val_accuracy"]) == 1
    net.eval()
    assert torch.equal(net(x), net(x)) and len(seen) == 2  # no augmentation in eval


def test_random_crop_flip_keeps_shapes_and_is_the_identity_without_crop_or_flip():
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8)
    torch.testing.assert_close(
        transfer_torch.random_crop_flip(x, (1.0, 1.0), flip=False), x
    )
    torch.manual_seed(0)
    out = transfer_torch.random_crop_flip(x)
    assert out.shape == x.shape and not torch.equal(out, x)
    assert x.min() <= out.min() and out.max() <= x.max()  # crops stay inside the image


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
    torch.testing.assert_close(net(x), mlp.eval()(net.embedding(x)))


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
        validation=None,
    )
    assert torch.equal(bn.running_mean, stats) and not bn.training
    assert not torch.equal(
        net.trunk.model._conv_stem.weight, weights
    )  # the convolutions did learn
    moving = transfer_torch.BackboneClassifier(fresh(), 2, batchnorm_momentum=0.1)
    assert {
        m.momentum for m in moving.modules() if isinstance(m, torch.nn.BatchNorm2d)
    } == {0.1}
