"""The ImageNet-transfer lab's own analyses: the SVM over re-drawn splits, what
unfreezing did seed by seed and epoch by epoch, and a head's parameters by layer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .. import findings
from . import ants_vs_bees

COLLAPSE_TEXT = (
    "collapsed (our rule): its last validation accuracy kept less than half of the "
    "frozen net's lead over chance"
)


def svm_over_splits(representation, seeds: Sequence[int], settings) -> list[float]:
    """The pretrained + SVM method over re-drawn splits: the frozen features of both
    splits pooled, then per seed a stratified split of the original sizes, the SVM
    fitted on its train part and scored on its validation part."""
    from sklearn.model_selection import train_test_split

    r = representation
    features = np.concatenate([r.train_features, r.val_features])
    labels = np.concatenate([r.train_labels, r.val_labels])
    scores = []
    for seed in seeds:
        f_train, f_val, y_train, y_val = train_test_split(
            features,
            labels,
            test_size=len(r.val_labels),
            stratify=labels,
            random_state=seed,
        )
        fitted = ants_vs_bees._svm(f_train, y_train, f_val, y_val, settings, seed)
        scores.append(fitted.val_accuracy)
    return scores


def collapsed(frozen, unfrozen, chance: float) -> bool:
    """Whether unfreezing lost more than half of the frozen net's lead over chance
    (:data:`COLLAPSE_TEXT`); both are :class:`helpers.train.Run`."""
    before = frozen.history["val_accuracy"][-1]
    after = unfrozen.history["val_accuracy"][-1]
    return after - chance < (before - chance) / 2


def unfreezing_table(frozen: Sequence, unfrozen: Mapping[str, Sequence], chance: float):
    """Per rate and seed: the frozen net's last validation accuracy, the whole net's
    after each unfrozen epoch, its test accuracy, and whether it collapsed."""
    import pandas as pd

    rows = []
    for rate, runs in unfrozen.items():
        for before, after in zip(frozen, runs):
            curve = after.history["val_accuracy"]
            row = {"rate": rate, "seed": before.seed}
            row["frozen"] = before.history["val_accuracy"][-1]
            row |= {f"epoch {i}": v for i, v in enumerate(curve, start=1)}
            row["test"] = after.test["accuracy"]
            row["collapsed"] = collapsed(before, after, chance)
            rows.append(row)
    return pd.DataFrame(rows).set_index(["rate", "seed"]).round(4)


def unfreezing_findings(table, frozen_test: Sequence[float]) -> str:
    """What unfreezing did at each rate, in words computed from
    :func:`unfreezing_table`'s ``table`` and the frozen nets' test accuracies."""
    lines = []
    for rate, rows in table.groupby(level="rate", sort=False):
        epochs = [c for c in rows.columns if c.startswith("epoch ")]
        fell = int((rows[epochs[0]] < rows["frozen"]).sum())
        ended = int((rows[epochs[-1]] < rows["frozen"]).sum())
        n, lost = len(rows), int(rows["collapsed"].sum())
        test = list(rows["test"])
        gap = np.mean(test) - np.mean(frozen_test)
        verb = "above" if gap > 0 else "below" if gap < 0 else "level with"
        lines.append(
            f"- At {rate}: validation accuracy fell below the frozen net's after the "
            f"first unfrozen epoch in {fell} of {n} seeds and ended below it in "
            f"{ended}; {lost} of {n} collapsed. Test accuracy "
            f"{findings.mean_std(test)}, {verb} the frozen net's "
            f"{findings.mean_std(frozen_test)}: "
            f"{findings.spread(test, frozen_test)}."
        )
    return "\n".join(lines)


def parameters_by_layer(module):
    """The parameters of each of ``module``'s layers that has any, largest first,
    with their share of the whole (a ``pandas`` table)."""
    import pandas as pd

    counts = {
        f"{name} ({type(layer).__name__})": sum(
            p.numel() for p in layer.parameters(recurse=False)
        )
        for name, layer in module.named_modules()
    }
    table = pd.Series({k: v for k, v in counts.items() if v}, name="parameters")
    table = table.sort_values(ascending=False).to_frame()
    table["share"] = (table["parameters"] / table["parameters"].sum()).round(3)
    return table


FULL = dict(
    r1_train=50_000,
    r1_test=10_000,
    r1_size=96,  # ours: R1 does not say
    r1_epochs=60,
    r1_head_epochs=20,
    r1_finetune_epochs=40,
    r4_size=224,
    r4_epochs=20,
    r4_unfrozen_epochs=10,
    seeds=[0, 1, 2],  # ours
)
SIZES = dict(
    smoke=dict(
        FULL,
        r1_train=200,
        r1_test=100,
        r1_size=32,
        r1_epochs=1,
        r1_head_epochs=2,
        r1_finetune_epochs=1,
        r4_size=96,
        r4_epochs=2,
        r4_unfrozen_epochs=1,
        seeds=[0],
    ),
    cpu=dict(
        FULL,
        r1_train=6_000,
        r1_test=2_000,
        r1_size=64,
        r1_epochs=3,
        r1_finetune_epochs=2,
        r4_size=128,
        r4_epochs=60,  # R4's heads on frozen features: until flat, see the lab
        r4_unfrozen_epochs=3,
    ),
    full=FULL,
)
"""The lab's sizes per profile, for :func:`helpers.profile.choose`: ``full`` the
reports' epochs and images (R1's image size and the seeds ours), ``cpu`` what a 2-core
CPU gives each experiment, ``smoke`` what still runs in seconds."""
