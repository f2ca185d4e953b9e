"""The PyTorch architectures of report R2: exact parameter counts, and ``forward``
(the logits) and ``embedding`` (the features) of each."""

import pytest
import torch

from helpers import models_torch


@pytest.mark.parametrize(
    "build, shape, n_params, n_features",
    [
        (models_torch.SimpleCNN, (1, 28, 28), 813_802, 14 * 14 * 32),  # R2, MNIST
        (models_torch.AlexNet32, (3, 32, 32), 6_199_498, 2 * 2 * 128),  # R2, CIFAR-10
    ],
)
def test_parameter_counts_and_forward_returns_logits_and_embedding_features(
    build, shape, n_params, n_features
):
    torch.manual_seed(0)
    model = build().eval()
    assert models_torch.count_parameters(model) == n_params
    assert models_torch.count_parameters(model, trainable_only=False) == n_params
    x = torch.randn(3, *shape)
    logits, features = model(x), model.embedding(x)
    assert logits.shape == (3, 10) and features.shape == (3, n_features)
    # the head starts from the embedding
    assert torch.allclose(model.classifier(features), logits, atol=1e-6)
    names = [name for name, _ in model.named_children()]
    assert names == ["features", "classifier"]  # state dicts keep their keys


def test_alexnet_follows_the_reports_layer_list():
    convs = [
        m for m in models_torch.AlexNet32().features if isinstance(m, torch.nn.Conv2d)
    ]
    assert [
        (c.in_channels, c.out_channels, c.kernel_size[0], c.stride[0], c.padding[0])
        for c in convs
    ] == [
        (3, 48, 5, 2, 2),
        (48, 128, 5, 1, 2),
        (128, 192, 3, 1, 1),
        (192, 192, 3, 1, 1),
        (192, 128, 3, 1, 1),
    ]


def test_dropout_is_active_in_training_only():
    torch.manual_seed(0)
    model, x = models_torch.SimpleCNN(), torch.randn(4, 1, 28, 28)
    model.train()
    assert not torch.equal(model(x), model(x))
    model.eval()
    assert torch.equal(model(x), model(x))
