"""The source of the code that ran, shown on the page."""

from helpers import models_keras, pages


def test_source_of_is_the_real_definition():
    source = pages.source_of(models_keras.tominet)
    assert source.startswith("def tominet(")
    assert "Conv2D" in source


def test_show_source_displays_highlighted_code_with_a_plain_fallback(monkeypatch):
    shown = []
    monkeypatch.setattr(
        "IPython.display.publish_display_data",
        lambda data, metadata=None: shown.append(data),
    )
    pages.show_source(models_keras.tominet)
    (data,) = shown
    assert data["text/plain"].startswith("# helpers.models_keras.tominet\ndef tominet(")
    assert "<span" in data["text/html"] and "tominet" in data["text/html"]
