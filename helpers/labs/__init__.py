"""Code only one lab uses, one module per lab (or per study a lab runs).

What several labs share lives in :mod:`helpers` itself; what a single lab needs to keep
its page to short cells lives here, named after that lab: :mod:`.keras_basics`,
:mod:`.cnns_pytorch`, :mod:`.filter_visualisation`, :mod:`.tsne`,
:mod:`.augmentation_ablation`, :mod:`.permuted_mnist`, and R2's two-class study
:mod:`.ants_vs_bees` (run by the transfer lab, whose cached results the t-SNE lab maps).
"""
