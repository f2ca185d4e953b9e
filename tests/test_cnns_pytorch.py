"""The cnns_pytorch lab's answers to R2's questions, on histories made to order."""

import numpy as np

from helpers.labs import cnns_pytorch as lab


def history(val_loss, val_accuracy, loss, accuracy):
    return dict(
        val_loss=val_loss, val_accuracy=val_accuracy, loss=loss, accuracy=accuracy
    )


def overfitting_histories():
    """Three seeds whose validation loss bottoms out at epoch 3 and then climbs
    well beyond the seeds' spread, while the training loss keeps falling."""
    out = []
    for s in (0.0, 0.01, -0.01):
        val_loss = [1.0 + s, 0.8 + s, 0.7 + s, 0.8 + s, 0.9 + s, 1.0 + s]
        val_acc = [0.5 + s, 0.6 + s, 0.65 + s, 0.66 + s, 0.66 + s, 0.662 + s]
        loss = [1.2, 0.9, 0.6, 0.4, 0.3, 0.2]
        out.append(history(val_loss, val_acc, loss, [0.5, 0.6, 0.7, 0.8, 0.85, 0.9]))
    return out


def test_loss_turn_finds_the_lowest_epoch_and_both_changes():
    h = overfitting_histories()[0]
    low, val_up, fit_change = lab.loss_turn(h)
    assert low == 3
    assert np.isclose(val_up, 0.3) and np.isclose(fit_change, -0.4)
    assert lab.loss_turn(h, at=3) == (3, 0.0, 0.0)


def test_an_overfitting_net_is_answered_as_overfitting_and_flat():
    facts = lab.curve_facts(overfitting_histories(), 6, [0.95, 0.96, 0.94])
    assert facts["low"] == 3 and facts["rose"] and facts["flat"]
    assert facts["best_epochs"] == [6, 6, 6]
    assert facts["fits_better"]  # 0.95 against 0.66: no high bias
    text = lab.answers(facts)
    assert text[0].startswith("**Overfitting?** yes")
    assert text[1].startswith("**High bias?** no")
    assert text[2].startswith("**More epochs?** no: the curve is flat")
    assert "validation above the reported training accuracy in 0 of 3" in text[3]


def test_a_rising_curve_asks_for_more_epochs_and_a_net_fitting_no_better_is_biased():
    hs = []
    for s in (0.0, 0.01, -0.01):
        val_acc = [0.3 + s, 0.4 + s, 0.5 + s, 0.6 + s, 0.7 + s]
        hs.append(
            history(
                [2.0 - 0.2 * e + s for e in range(5)],
                val_acc,
                [2.1 - 0.2 * e for e in range(5)],
                [0.2, 0.3, 0.4, 0.5, 0.6],
            )
        )
    facts = lab.curve_facts(hs, 5, [0.7, 0.71, 0.69])
    assert not facts["flat"] and not facts["rose"] and facts["low"] == 5
    assert not facts["fits_better"]
    text = lab.answers(facts)
    assert text[0].startswith("**Overfitting?** no sign of it")
    assert text[1].startswith("**High bias?** yes")
    assert text[2].startswith("**More epochs?** yes")
    assert "in 3 of 3 seeds" in text[3]
