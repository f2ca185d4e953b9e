"""The letters substitute is rendered in handwriting outside smoke: without a
handwriting font, a cpu or full run is refused (by the helpers and, beforehand, by
``python -m machinery run``) with the line that installs them; the families drawn
from are recorded in the stamp."""

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from helpers import data, letters
from machinery import environment, stamp
from machinery.__main__ import main

RENDERS = "from helpers import data\nx = data.load_letters('auto')"


@pytest.fixture
def no_handwriting(monkeypatch):
    monkeypatch.setattr(letters, "handwriting_fonts", lambda: [])


def test_cpu_and_full_are_refused_with_the_install_line(no_handwriting):
    for profile in ("cpu", "full"):
        with pytest.raises(letters.NoHandwritingFonts) as refused:
            letters.fonts_for(profile)
        message = str(refused.value)
        assert "\n" not in message and f"the {profile} profile" in message
        assert letters.INSTALL in message
        assert letters.INSTALL.startswith("sudo apt-get install fonts-dkg-handwriting")
    with pytest.raises(letters.NoHandwritingFonts, match="apt-get install"):
        data.load_letters("fonts", n_train_per_class=1, profile="cpu")


def test_smoke_renders_with_the_fonts_it_finds(no_handwriting):
    assert letters.fonts_for("smoke") == letters.available_fonts()
    (x, _), _, source = data.load_letters(
        "fonts", n_train_per_class=1, n_test_per_class=1, profile="smoke"
    )
    assert source == "fonts" and len(x) == 26


def test_handwriting_fonts_are_the_packages_families_one_file_per_face():
    found = letters.handwriting_fonts()
    if not found:
        pytest.skip(f"no handwriting font installed ({letters.INSTALL})")
    names = [tuple(letters.ImageFont.truetype(str(p), 12).getname()) for p in found]
    assert len(set(names)) == len(names)  # fonts-breip's second copy left out
    prefixes = tuple(letters.HANDWRITING.values())
    assert all(family.startswith(prefixes) for family, _ in names)
    assert letters.fonts_for("cpu") == found
    assert letters.font_names() == [" ".join(n) for n in names]  # the default


def test_the_families_drawn_from_are_logged_and_stamped(tmp_path, monkeypatch):
    log = tmp_path / "fonts.txt"
    monkeypatch.setenv(letters.FONTS_LOG_VAR, str(log))
    letters.render_letters(1, fonts="bundled")
    letters.render_letters(1, fonts="bundled")  # logged twice, recorded once
    families = environment.fonts_used(log)
    assert families == sorted(set(families))
    assert {"DejaVu Sans", "STIXGeneral", "cmr10"} <= set(families)
    nb = new_notebook(cells=[new_code_cell("x = 1")])
    record = stamp.describe(nb, "cpu", 1.0, fonts=families)
    assert record["fonts"] == families
    assert "fonts" not in stamp.describe(nb, "cpu", 1.0)  # only labs that render


def test_the_runner_refuses_beforehand_and_says_how(
    no_handwriting, tmp_path, monkeypatch, capsys
):
    monkeypatch.delenv("LABS_PROFILE", raising=False)  # labs/conftest.py exports smoke
    monkeypatch.setenv("LABS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LABS_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "data").mkdir()
    nb = new_notebook(cells=[new_code_cell(RENDERS)])
    assert environment.missing_fonts(nb, "smoke") is None
    assert letters.INSTALL in environment.missing_fonts(nb, "cpu")
    assert environment.missing_fonts(new_notebook(cells=[]), "cpu") is None
    path = tmp_path / "lab.ipynb"
    nbformat.write(nb, path)
    before = path.read_bytes()
    assert main(["run", str(path), "--profile", "cpu"]) == 1
    assert f"skipped: {letters.missing_handwriting('cpu')}" in capsys.readouterr().out
    assert path.read_bytes() == before  # never executed
    emnist = tmp_path / "data" / "emnist" / "gzip.zip"
    emnist.parent.mkdir()
    emnist.write_bytes(b"")  # a copy of EMNIST: nothing to render
    assert environment.missing_fonts(nb, "cpu") is None
