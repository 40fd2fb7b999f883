"""Charts of the staff dashboard: SVG drawn on the server by pygal.

Server-side SVG needs no script and no CDN, prints and scales, and keeps the pages working
with JavaScript off; pygal's own interactive script is switched off (`js=[]`), since by
default it would be fetched from a CDN.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

if TYPE_CHECKING:
    # pygal loads with the first chart a staff page draws, not with the app.
    import pygal


@cache
def _config() -> dict[str, Any]:
    from pygal.style import Style

    style = Style(
        background="transparent",
        plot_background="#ffffff",
        foreground="#1f2933",
        foreground_strong="#1f2933",
        foreground_subtle="#616e7c",
        colors=("#0b5d3b", "#d97706", "#2563eb", "#b91c1c"),
        font_family="system-ui, sans-serif",
    )
    return {
        "style": style,
        "js": [],  # no script fetched from anywhere
        "disable_xml_declaration": True,
        "width": 640,
        "height": 300,
        "legend_at_bottom": True,
        "print_values": True,
        "explicit_size": False,
    }


def _svg(chart: pygal.Graph) -> Markup:
    # pygal escapes titles and labels itself; the SVG is ours to inline.
    return Markup(chart.render(is_unicode=True))


def bars(
    title: str,
    values: Sequence[tuple[str, float]],
    *,
    maximum: float | None = None,
    suffix: str = "",
) -> Markup:
    """One bar per label."""
    import pygal

    top = maximum or max([1, *(math.ceil(v) for _, v in values)])
    chart = pygal.HorizontalBar(
        title=title,
        show_legend=False,
        range=(0, top),
        # Counts get whole-number ticks; percentages every 10.
        y_labels=list(range(0, int(top) + 1, max(1, math.ceil(top / 10)))),
        value_formatter=lambda v: f"{v:g}{suffix}",
        **_config(),
    )
    chart.x_labels = [label for label, _ in values]
    chart.add(title, [value for _, value in values])
    return _svg(chart)


def grouped_bars(
    title: str,
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    maximum: float | None = None,
) -> Markup:
    """Bars side by side per label, one colour per series (before/after, pre/post)."""
    import pygal

    chart = pygal.Bar(
        title=title,
        range=(0, maximum) if maximum else None,
        value_formatter=lambda v: f"{v:g}",
        **_config(),
    )
    chart.x_labels = list(labels)
    for name, values in series.items():
        chart.add(name, list(values))
    return _svg(chart)
