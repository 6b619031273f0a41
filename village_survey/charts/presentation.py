"""matplotlib's SVG as the app's Content-Security-Policy lets a page show it inline.

`style.render` applies it to every chart, so web pages and PDFs get the same SVG.

The policy (``security.CSP``: ``style-src 'self'``) ignores ``style="…"`` attributes and
``<style>`` elements in the page, inline SVG included: every shape would be drawn black. The
same properties written as SVG presentation attributes (``fill="…"``) are not styles and are
drawn. Pure string work on the renderer's output, no Flask.
"""

from __future__ import annotations

import re

_TAG = re.compile(r"<[A-Za-z][^<>]*>")
_STYLE_ATTR = re.compile(r'\sstyle="([^"]*)"')
_STYLE_ELEMENT = re.compile(r"<style\b[^>]*>.*?</style>", re.S)
_ATTR_NAME = re.compile(r'\s([A-Za-z_:][-\w:.]*)=')
# CSS properties that are SVG presentation attributes too (all matplotlib writes).
PRESENTATION = frozenset({
    "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-linejoin", "stroke-linecap",
    "stroke-opacity", "stroke-dasharray", "stroke-dashoffset", "stroke-miterlimit", "opacity", "font-size",
    "font-family", "font-weight", "font-style", "text-anchor", "clip-path", "visibility", "display",
})


def _tag(match: re.Match) -> str:
    tag = match.group(0)
    style = _STYLE_ATTR.search(tag)
    if style is None:
        return tag
    present = set(_ATTR_NAME.findall(tag))
    attrs = []
    for declaration in style.group(1).split(";"):
        name, _sep, value = declaration.partition(":")
        name, value = name.strip(), value.strip()
        if name in PRESENTATION and name not in present and value:
            attrs.append(f' {name}="{value}"')  # as it stood in the quoted attribute: escaped already
    return tag[:style.start()] + "".join(attrs) + tag[style.end():]


def without_inline_styles(svg: str) -> str:
    """The SVG with each ``style`` attribute as presentation attributes and no ``<style>``."""
    svg = _STYLE_ELEMENT.sub("", svg)
    return _TAG.sub(_tag, svg)
