"""What a page shows besides results: the source of the code that ran.

Students should see the model and the training step that produced a page's numbers. A
``{literalinclude}`` shows them only in the built book; :func:`show_source` prints the
source of the very object that ran, highlighted, in Jupyter, Colab and the book alike.
"""

from __future__ import annotations

import inspect

STYLE = "default"


def source_of(obj) -> str:
    """The source code of a function, class or method (decorators included)."""
    return inspect.getsource(inspect.unwrap(obj))


def show_source(obj) -> None:
    """Display ``obj``'s source as highlighted Python, with where it lives.

    The output is HTML (Pygments) with a plain-text fallback, so a page built from
    stored outputs shows it exactly as the notebook did.
    """
    from IPython.display import publish_display_data
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    code = source_of(obj)
    where = f"{obj.__module__}.{obj.__qualname__}"
    formatter = HtmlFormatter(noclasses=True, style=STYLE, nowrap=False)
    html = (
        f'<p style="margin:0"><code>{where}</code></p>'
        f"{highlight(code, PythonLexer(), formatter)}"
    )
    publish_display_data({"text/html": html, "text/plain": f"# {where}\n{code}"})
