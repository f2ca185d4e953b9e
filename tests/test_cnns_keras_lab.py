"""The Keras-CNN lab's analyses: the chance rule, a run's cost and R3's claims checked
on the seeds with a two-sample test."""

from helpers.labs import cnns_keras
from helpers.train import Run


def run(seed, train, val, seconds=10.0):
    return Run(seed, {"accuracy": list(train), "val_accuracy": list(val)}, {}, seconds)


def test_a_net_is_beyond_chance_only_when_every_seed_reaches_twice_chance():
    assert cnns_keras.beyond_chance([0.25, 0.3, 0.4], 10)
    assert not cnns_keras.beyond_chance([0.19, 0.3, 0.4], 10)
    assert not cnns_keras.beyond_chance([], 10)


def test_gaps_and_values_at_an_epoch_are_per_run():
    runs = [run(0, [0.5, 0.9], [0.4, 0.6]), run(1, [0.5, 0.8], [0.5, 0.7])]
    assert [round(g, 6) for g in cnns_keras.gaps(runs)] == [30.0, 10.0]
    assert cnns_keras.at_epoch(runs, 1) == [0.4, 0.5]


def test_the_cost_line_gives_seconds_and_images_a_second():
    line = cnns_keras.cost_line(
        "net", [run(0, [0], [0], 20), run(1, [0], [0], 30)], 1000, 5
    )
    assert "25 s a run" in line and "200 training images a second" in line


def test_as_in_r3_needs_the_same_first_beyond_noise():
    apart = {"A": [0.50, 0.51, 0.52], "V": [0.40, 0.41, 0.42]}
    assert "(as in R3)" in cnns_keras.claim_line(apart, "A", "accuracy")
    assert "(R3: V)" in cnns_keras.claim_line(apart, "V", "accuracy")
    close = {"A": [0.50, 0.40, 0.45], "V": [0.41, 0.49, 0.46]}
    line = cnns_keras.claim_line(close, "A", "accuracy")
    assert "no first place" in line and "tie within noise" in line
    assert "as in R3" not in line
    one_each = cnns_keras.claim_line({"A": [0.9], "V": [0.1]}, "A", "accuracy")
    assert "undecided" in one_each and "as in R3" not in one_each


def test_r3s_three_claims_are_checked_on_the_runs():
    alex = [run(s, [0.9, 0.95], [0.5, 0.6 + s / 100]) for s in range(3)]
    vgg = [run(s, [0.3, 0.5], [0.2, 0.45 + s / 100]) for s in range(3)]
    runs = {"AlexNet-style": alex, "VGG16-style": vgg}
    test = {"AlexNet-style": [0.6, 0.61, 0.62], "VGG16-style": [0.6, 0.62, 0.61]}
    lines = cnns_keras.r3_claims(runs, test, 1, "AlexNet-style")
    assert "no first place" in lines[0]
    assert "after epoch 1 of 2" in lines[1] and "(as in R3)" in lines[1]
    assert "**AlexNet-style**" in lines[2] and "(as in R3)" in lines[2]
