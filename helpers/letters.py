"""Rendered letters A–Z: a stand-in for EMNIST letters when it cannot be downloaded.

In the spirit of notMNIST: each of the 26 classes is a letter drawn from many fonts,
with random jitter, at 28x28 like MNIST (white glyph on black, the glyph's bounding box
scaled to about 20 px and centred in the frame)::

    # x: uint8 (26_000, 28, 28), y: int64 0..25 (A..Z)
    x, y = render_letters(1_000, seed=0)
    font_names()  # which fonts were drawn from

Like EMNIST letters, upper and lower case share one class ('a' and 'A' are both 0):
each image is upper or lower case with equal odds. Jitter per image: font, case,
stroke thickness, rotation (±10°), shear, aspect ratio, glyph size (17–22 px) and a
small shift.

Fonts: by default the handwriting-style fonts of seven Debian/Ubuntu packages
(:data:`HANDWRITING`, found by file under ``/usr/share/fonts``; :data:`INSTALL` installs
them), the closest installed stand-in for handwritten letters. Without any of them,
:func:`fonts_for` refuses the ``cpu`` and ``full`` profiles with that install line, and
``smoke`` uses every font there is: matplotlib's bundled DejaVu, STIX and Computer
Modern faces (always there, so this works on a bare machine) and those under
``/usr/share/fonts``. Fonts without real Latin letters (symbols, dingbats, fallback
faces) are left out. The same seed gives the same images on the same set of fonts;
pass ``fonts="bundled"`` for images that are the same on every machine with the same
matplotlib and Pillow. With ``LABS_FONTS_LOG`` set (the book's runner sets it), the
families drawn from are appended to that file, for the page's provenance stamp.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
SYSTEM_FONT_DIRS = (Path("/usr/share/fonts"),)
_BASE_PX = 64  # font size of the cached high-resolution glyphs
_MAX_STROKE = 4  # most extra outline (px at _BASE_PX) that thickens a thin font
_FONT_SUFFIXES = (".ttf", ".otf")
# Debian/Ubuntu handwriting-style font packages -> how their family names begin
HANDWRITING = {
    "fonts-dkg-handwriting": "DkgHandwriting",
    "fonts-breip": "Breip",
    "fonts-bwht": "Because We ",  # six hands: Because We Build, ... Organize
    "fonts-humor-sans": "Humor Sans",
    "fonts-klee": "Klee One",
    "fonts-rufscript": "Rufscript",
    "fonts-femkeklaver": "femkeklaver",
}
INSTALL = "sudo apt-get install " + " ".join(HANDWRITING)
FONTS_LOG_VAR = "LABS_FONTS_LOG"  # where render_letters notes the families it used


class NoHandwritingFonts(RuntimeError):
    """A cpu or full run would render its letters without a handwriting font."""


def _bundled_font_dir() -> Path:
    spec = importlib.util.find_spec("matplotlib")
    return Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf"


def _glyph(font: ImageFont.FreeTypeFont, ch: str, stroke: int = 0) -> np.ndarray:
    """The glyph of ``ch`` as a tight uint8 array (0 x 0 when the glyph is empty)."""
    left, top, right, bottom = font.getbbox(ch, stroke_width=stroke)
    if right <= left or bottom <= top:
        return np.zeros((0, 0), np.uint8)
    img = Image.new("L", (right - left + 2, bottom - top + 2))
    ImageDraw.Draw(img).text(
        (1 - left, 1 - top),
        ch,
        font=font,
        fill=255,
        stroke_width=stroke,
        stroke_fill=255,
    )
    box = img.getbbox()
    return np.asarray(img.crop(box)) if box else np.zeros((0, 0), np.uint8)


def _maps_latin_letters(path: Path) -> bool:
    """True if the font's Unicode cmap sends A–Z, a–z to glyphs named as those letters.
    Symbol and dingbat fonts map them to other shapes ('Alpha', 'a10',
    'integraldisplay'); unnamed glyphs ('glyph36', 'cid00036') are left to the
    rendering checks."""
    try:
        from fontTools.ttLib import TTFont  # a matplotlib dependency, so always there
    except ImportError:
        return True
    try:
        cmap = TTFont(str(path), lazy=True, fontNumber=0).getBestCmap() or {}
    except Exception:
        return False
    for c in LETTERS + LETTERS.lower():
        name = cmap.get(ord(c))
        if name is None:
            return False
        base = re.split(r"[._]", name)[0]
        if base not in (c, f"uni{ord(c):04X}", f"u{ord(c):04X}") and not re.fullmatch(
            r"(glyph|gid|cid)\d+", base
        ):
            return False
    return True


@cache
def _is_latin_font(path: Path) -> bool:
    """A usable letter font: every letter renders, non-empty, unlike the missing-glyph
    box and unlike every other letter of the same case."""
    try:
        font = ImageFont.truetype(str(path), 32)
    except OSError:
        return False
    if not _maps_latin_letters(path):
        return False
    missing = _glyph(font, "\U0010fffd").tobytes()
    for alphabet in (LETTERS, LETTERS.lower()):
        shapes = [_glyph(font, c) for c in alphabet]
        if any(s.size == 0 or s.sum() < 255 * 8 for s in shapes):
            return False
        keys = {s.shape + (s.tobytes(),) for s in shapes}
        if len(keys) < len(alphabet) or any(s.tobytes() == missing for s in shapes):
            return False
    return True


@cache
def _fonts_under(folders: tuple[Path, ...]) -> tuple[Path, ...]:
    chosen: dict[
        str, Path
    ] = {}  # one file per name, the first folder's (DejaVu is often in two)
    for d in folders:
        found = (
            sorted(p for p in d.rglob("*") if p.suffix.lower() in _FONT_SUFFIXES)
            if d.is_dir()
            else []
        )
        for p in found:
            if p.name not in chosen and p.is_file() and _is_latin_font(p):
                chosen[p.name] = p
    return tuple(chosen[name] for name in sorted(chosen))


def available_fonts(system: bool = True) -> list[Path]:
    """Fonts with real Latin letters: matplotlib's bundled ones, then (if ``system``)
    those under ``/usr/share/fonts``; sorted by file name, one file per name, so the
    order is stable."""
    folders = (_bundled_font_dir(),) + (SYSTEM_FONT_DIRS if system else ())
    return list(_fonts_under(folders))


def family(path: Path) -> str:
    """The font's family name (``'Klee One'``)."""
    return ImageFont.truetype(str(path), 12).getname()[0]


def handwriting_fonts() -> list[Path]:
    """The installed fonts of the :data:`HANDWRITING` packages, one file per family and
    style (fonts-breip ships the same face twice); empty when none is installed."""
    chosen: dict[tuple[str, str], Path] = {}
    for p in _fonts_under(SYSTEM_FONT_DIRS):
        name = ImageFont.truetype(str(p), 12).getname()
        if name[0].startswith(tuple(HANDWRITING.values())):
            chosen.setdefault(name, p)
    return sorted(chosen.values(), key=lambda p: p.name)


def missing_handwriting(profile: str) -> str:
    """The one-line refusal of a ``profile`` run without handwriting fonts."""
    return (
        f"no handwriting font is installed, and the {profile} profile renders its "
        f"letters in handwriting: install them with `{INSTALL}` (Debian/Ubuntu), or "
        "run the smoke profile"
    )


def fonts_for(profile: str) -> list[Path]:
    """The fonts a ``profile`` run draws letters from: the handwriting fonts; without
    any, every available font in ``smoke``, :class:`NoHandwritingFonts` otherwise."""
    found = handwriting_fonts()
    if found or profile == "smoke":
        return found or available_fonts()
    raise NoHandwritingFonts(missing_handwriting(profile))


def install_handwriting() -> None:
    """Install the :data:`HANDWRITING` packages with apt-get (as root: Colab)."""
    apt = ["apt-get", "-qq"]
    subprocess.run([*apt, "update"], check=True)
    subprocess.run([*apt, "install", "-y", *HANDWRITING], check=True)
    _fonts_under.cache_clear()


def _resolve(fonts) -> list[Path]:
    if fonts is None:
        return handwriting_fonts() or available_fonts()
    if isinstance(fonts, str) and fonts in ("bundled", "all"):
        return available_fonts(system=fonts == "all")
    paths = [Path(f) for f in fonts]
    bad = [str(p) for p in paths if not _is_latin_font(p)]
    if bad or not paths:
        raise ValueError(
            "not usable as letter fonts (missing, or no Latin letters): "
            f"{bad or 'none given'}"
        )
    return paths


def font_names(fonts=None) -> list[str]:
    """'Family Style' of each font ``render_letters`` draws from (same
    ``fonts`` argument)."""
    return [" ".join(ImageFont.truetype(str(p), 12).getname()) for p in _resolve(fonts)]


def _log_families(paths) -> None:
    """Append the families of ``paths`` to the file ``LABS_FONTS_LOG`` names (if
    set)."""
    if log := os.environ.get(FONTS_LOG_VAR):
        with open(log, "a") as f:
            f.writelines(f"{name}\n" for name in sorted({family(p) for p in paths}))


@cache
def _truetype(path: Path) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), _BASE_PX)


@cache
def _stem_width(path: Path, ch: str) -> tuple[float, int]:
    """(stroke width estimate 2*area/perimeter, larger side) of the plain glyph, in
    base pixels."""
    m = _glyph(_truetype(path), ch) > 127
    p = np.pad(m, 1)
    edge = m & ~(p[:-2, 1:-1] & p[2:, 1:-1] & p[1:-1, :-2] & p[1:-1, 2:])
    return 2.0 * m.sum() / max(edge.sum(), 1), max(m.shape)


@lru_cache(maxsize=100_000)
def _cached_glyph(path: Path, ch: str, stroke: int) -> Image.Image:
    g = _glyph(_truetype(path), ch, stroke)
    return Image.fromarray(np.pad(g, 4))  # margin so rotation does not clip the glyph


def _jittered(
    glyph: Image.Image, box: float, rng: np.random.Generator, size: int
) -> np.ndarray:
    """Rotate, shear and stretch the glyph, fit its bounding box into ~20/28 of the
    frame, centre it by that box and shift it a little."""
    angle = np.deg2rad(rng.uniform(-10, 10))
    shear = rng.uniform(-0.25, 0.25)
    stretch = np.exp(rng.uniform(-0.15, 0.15))
    c, s = np.cos(angle), np.sin(angle)
    forward = (
        np.array([[c, -s], [s, c]])
        @ np.array([[1, shear], [0, 1]])
        @ np.diag([stretch, 1 / stretch])
    )
    w, h = glyph.size
    corners = (np.array([[0, 0], [w, 0], [0, h], [w, h]]) - [w / 2, h / 2]) @ forward.T
    out_w, out_h = (np.ceil(corners.max(0) - corners.min(0)) + 2).astype(int)
    inv = np.linalg.inv(forward)  # PIL maps output pixels back to input pixels
    offset = np.array([w / 2, h / 2]) - inv @ np.array([out_w / 2, out_h / 2])
    img = glyph.transform(
        (int(out_w), int(out_h)),
        Image.Transform.AFFINE,
        (inv[0, 0], inv[0, 1], offset[0], inv[1, 0], inv[1, 1], offset[1]),
        resample=Image.Resampling.BILINEAR,
    )
    img = img.crop(img.getbbox())
    scale = box / max(img.size)
    img = img.resize(
        (max(1, round(img.width * scale)), max(1, round(img.height * scale))),
        Image.Resampling.BILINEAR,
    )
    frame = Image.new("L", (size, size))
    shift = rng.uniform(-1.5, 1.5, 2) * size / 28
    frame.paste(
        img,
        (
            int(round((size - img.width) / 2 + shift[0])),
            int(round((size - img.height) / 2 + shift[1])),
        ),
    )
    a = np.asarray(frame, dtype=np.float32)
    return np.clip(np.rint(a * (255.0 / max(a.max(), 1.0))), 0, 255).astype(np.uint8)


def render_letters(
    n_per_class: int, seed: int = 0, size: int = 28, fonts=None
) -> tuple[np.ndarray, np.ndarray]:
    """``n_per_class`` jittered images of each letter A–Z, shuffled.

    Returns ``x`` uint8 (26 * n_per_class, size, size), white on black, and ``y`` int64
    in 0..25 (0 = 'A'/'a'). ``fonts``: None (the handwriting fonts, else every
    available font), ``"all"`` (every available font), ``"bundled"`` (matplotlib's only:
    the same images on every machine) or a list of font files. Same seed and fonts →
    same arrays.
    """
    paths = _resolve(fonts)
    _log_families(paths)
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.repeat(np.arange(len(LETTERS), dtype=np.int64), n_per_class))
    n = len(y)
    font_idx = rng.integers(len(paths), size=n)
    lower = rng.random(n) < 0.5
    boxes = rng.uniform(17, 22, n)  # glyph size in a 28-px frame
    target = rng.uniform(1.5, 3.2, n)  # wanted stroke width, 28-px frame (MNIST: ~2-3)
    x = np.empty((n, size, size), np.uint8)
    for i in range(n):
        ch = LETTERS[y[i]].lower() if lower[i] else LETTERS[y[i]]
        stem, side = _stem_width(paths[font_idx[i]], ch)
        # thicken thin fonts towards the target; bold ones keep their weight
        stroke = int(
            np.clip(round((target[i] * side / boxes[i] - stem) / 2), 0, _MAX_STROKE)
        )
        x[i] = _jittered(
            _cached_glyph(paths[font_idx[i]], ch, stroke),
            boxes[i] * size / 28,
            rng,
            size,
        )
    return x, y
