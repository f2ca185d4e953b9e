"""The IMDB reviews: Keras-style word ids from the raw text, and back."""

from __future__ import annotations

import json
import lzma
from collections import Counter
from functools import lru_cache
from pathlib import Path, PurePosixPath

import numpy as np

from .decoding import ORDER_SEED, archive_files, decoding, is_smoke
from .sources import Found, fetch, file_stamp

PAD, START, OOV, FIRST_WORD = 0, 1, 2, 3  # IMDB ids, as in keras.datasets.imdb
_PUNCTUATION = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'  # Keras' old Tokenizer filters
_TO_SPACE = str.maketrans(_PUNCTUATION, " " * len(_PUNCTUATION))


def text_to_words(text: str) -> list[str]:
    """Lowercase, drop ``<br />`` and punctuation (apostrophes stay: ``don't``), split
    on spaces."""
    return text.lower().replace("<br />", " ").translate(_TO_SPACE).split()


def build_word_index(texts) -> dict[str, int]:
    """Word -> id, by frequency in ``texts`` (ties alphabetical): the commonest word
    gets 3."""
    counts = Counter(w for text in texts for w in text_to_words(text))
    ranked = sorted(counts.items(), key=lambda wc: (-wc[1], wc[0]))
    return {w: FIRST_WORD + i for i, (w, _) in enumerate(ranked)}


def decode_review(sequence, word_index: dict[str, int]) -> str:
    """Ids back to words; padding is dropped, 1 shows as ``<start>`` and 2
    as ``<oov>``."""
    words = {i: w for w, i in word_index.items()} | {START: "<start>", OOV: "<oov>"}
    return " ".join(words.get(int(i), "<oov>") for i in sequence if i != PAD)


def imdb_texts(found: Found) -> dict[str, tuple[list[str], list[int]]]:
    """``{"train": (texts, labels), "test": ...}`` from the JSON copy or the
    canonical tar."""
    if found.fmt == "imdb-json-xz":
        with lzma.open(found.path, "rt", encoding="utf-8") as f:
            raw = json.load(f)
        return {s: (raw[s]["text"], raw[s]["label"]) for s in ("train", "test")}
    rows = {
        "train": [],
        "test": [],
    }  # aclImdb/<split>/<neg|pos>/<id>_<rating>.txt; unsup skipped
    for member, data in archive_files(found.path, lambda n: n.endswith(".txt")):
        parts = PurePosixPath(member).parts
        if len(parts) >= 3 and parts[-3] in rows and parts[-2] in ("neg", "pos"):
            key = (parts[-2] == "pos", int(parts[-1].split("_")[0]))
            rows[parts[-3]].append((key, data.decode("utf-8")))
    return {
        s: ([t for _, t in sorted(r)], [int(k[0]) for k, _ in sorted(r)])
        for s, r in rows.items()
    }


@lru_cache(maxsize=2)
def _imdb_encoded(path: str, fmt: str, origin: str, stamp: tuple):
    """Word index and full-vocabulary id sequences (int32), shuffled
    with ``ORDER_SEED``."""
    texts = imdb_texts(Found(Path(path), fmt, origin))
    index = build_word_index(texts["train"][0])
    out = {}
    for s, (docs, labels) in texts.items():
        seqs = [
            np.array([START] + [index.get(w, OOV) for w in text_to_words(d)], np.int32)
            for d in docs
        ]
        order = np.random.default_rng(ORDER_SEED).permutation(len(seqs))
        out[s] = ([seqs[i] for i in order], np.asarray(labels, np.int64)[order])
    return index, out


def _imdb(profile):
    found = fetch("imdb", sample=is_smoke(profile))
    with decoding(found):
        return _imdb_encoded(
            str(found.path), found.fmt, found.origin, file_stamp(found.path)
        )


def load_imdb(
    num_words: int | None = None,
    maxlen: int | None = None,
    *,
    return_word_index: bool = False,
    profile: str | None = None,
):
    """IMDB reviews as Keras-style id sequences:
    ``(x_train, y_train), (x_test, y_test)``.

    Ids: 0 padding, 1 start, 2 out-of-vocabulary, words from 3 by frequency in the
    *training* text (see :func:`build_word_index`, :func:`text_to_words`). ``num_words``
    keeps ids below it (so ``Embedding(num_words, ...)`` fits; others become 2).
    ``maxlen`` *truncates* each sequence to its first ``maxlen`` ids (start included),
    where keras.datasets.imdb drops long reviews. ``x_*`` are object arrays of int32
    arrays (pad them with ``keras.utils.pad_sequences``); ``y_*`` int64, 1 = positive.
    Full: 25,000 + 25,000, in a fixed shuffled order; smoke: 500 + 200.
    ``return_word_index=True`` adds the word index.
    """
    if num_words is not None and num_words <= FIRST_WORD:
        raise ValueError(
            f"num_words={num_words} keeps no word; it counts the reserved ids 0-2 too."
        )
    if maxlen is not None and maxlen < 1:
        raise ValueError(f"maxlen={maxlen} must be at least 1.")
    index, encoded = _imdb(profile)
    result = []
    for seqs, labels in (encoded["train"], encoded["test"]):
        x = np.empty(len(seqs), dtype=object)
        for i, seq in enumerate(seqs):
            seq = seq[:maxlen] if maxlen else seq
            x[i] = (
                np.where(seq < num_words, seq, OOV).astype(np.int32)
                if num_words
                else seq.copy()
            )
        result.append((x, labels.copy()))
    return (*result, dict(index)) if return_word_index else tuple(result)


def bag_of_words(sequences, num_words: int, *, counts: bool = True) -> np.ndarray:
    """Id sequences (as from :func:`load_imdb`) → a (N, ``num_words``) float32 matrix.

    Column ``i`` holds how often id ``i`` occurs in the sequence (``counts=True``) or 1
    if it occurs at all (multi-hot); ids from ``num_words`` up are dropped. The reserved
    ids count too: column 1 is the start mark (always 1), column 2 the number of
    out-of-vocabulary words.
    """
    out = np.zeros((len(sequences), num_words), dtype=np.float32)
    for row, seq in zip(out, sequences):
        seq = np.asarray(seq)
        row[:] = np.bincount(seq[seq < num_words], minlength=num_words)
    return out if counts else np.minimum(out, 1.0)


def imdb_word_index(*, profile: str | None = None) -> dict[str, int]:
    """The word index of :func:`load_imdb` (word -> id used in the sequences,
    from 3)."""
    return dict(_imdb(profile)[0])
