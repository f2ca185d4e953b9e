"""PyTorch architectures of the practicals (report R2).

Each net is ``features`` (the convolutions) then ``classifier`` (the head):
``forward`` returns the class scores (logits), ``embedding`` the flattened
representation the classifier starts from (for t-SNE and the like;
``train.predict_torch(..., features=True)`` returns both). Parameter counts are facts
from the report and are checked by ``tests/test_models_torch.py``.
"""

from __future__ import annotations

import torch
from torch import nn


class SimpleCNN(nn.Module):
    """R2's SimpleCNN for 28x28 grey digits: 813,802 parameters.

    The report gives only the count, and that the net has Dropout and ends in Linear
    layers. This design meets the count exactly: two 3x3 convolutions (32 filters each,
    padding 1) and one 2x2 max-pool give 14·14·32 = 6,272 features; the head is Dropout
    → Linear 128 → ReLU → Dropout → Linear 10. Parameters: 320 + 9,248 (convolutions) +
    802,944 + 1,290 (head).
    """

    def __init__(
        self, num_classes: int = 10, dropout: tuple[float, float] = (0.25, 0.5)
    ):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(32, 32, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Dropout(dropout[0]),
            nn.Linear(14 * 14 * 32, 128),
            nn.ReLU(),
            nn.Dropout(dropout[1]),
            nn.Linear(128, num_classes),
        )

    def embedding(self, x: torch.Tensor) -> torch.Tensor:
        """The flattened features the classifier starts from."""
        return torch.flatten(self.features(x), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.embedding(x))


class AlexNet32(nn.Module):
    """R2's AlexNet for 32x32 colour images (CIFAR-10): 6,199,498 parameters.

    Five convolutions (48, 128, 192, 192, 128 filters; the first 5x5 with stride 2) and
    three max-pools shrink 32x32 to 2x2x128 = 512 features; the head is Dropout → Linear
    2048 → ReLU → Dropout → Linear 2048 → ReLU → Linear 10. As in the report, each pool
    comes before its ReLU.
    """

    def __init__(self, num_classes: int = 10, dropout: float = 0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 48, kernel_size=5, stride=2, padding=2),
            nn.MaxPool2d(2),
            nn.ReLU(),
            nn.Conv2d(48, 128, kernel_size=5, padding=2),
            nn.MaxPool2d(2),
            nn.ReLU(),
            nn.Conv2d(128, 192, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(192, 192, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(192, 128, kernel_size=3, padding=1),
            nn.MaxPool2d(2),
            nn.ReLU(),
        )
        self.classifier = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(2 * 2 * 128, 2048),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(2048, 2048),
            nn.ReLU(),
            nn.Linear(2048, num_classes),
        )

    def embedding(self, x: torch.Tensor) -> torch.Tensor:
        """The flattened features the classifier starts from."""
        return torch.flatten(self.features(x), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.embedding(x))


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """The number of (trainable) parameters of a PyTorch model."""
    return sum(
        p.numel() for p in model.parameters() if p.requires_grad or not trainable_only
    )
