"""matplotlib's SVG as the app's Content-Security-Policy lets a page show it inline.

matplotlib writes `style="fill: …; stroke: …"` on every mark and a `<style>` element; a page
whose CSP says `style-src 'self'` ignores both (every bar black, every line gone). SVG's
presentation attributes (`fill="…"`) draw the same and are no styles to a CSP. `style.render`
applies this to every chart, so web pages and PDFs get the same SVG. Pure string work.
"""

from __future__ import annotations

import re
from html import escape

_TAG = re.compile(r"<([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(/?)>")
_ATTRIBUTE = re.compile(r"([\w:.-]+)\s*=\s*(\"[^\"]*\"|'[^']*')")
_STYLE_ELEMENT = re.compile(r"<style\b[^>]*>(.*?)</style>", re.S)
_DECLARATION = re.compile(r"\s*([\w-]+)\s*:\s*([^;]+?)\s*(?:;|$)")


def _declarations(css: str) -> list[tuple[str, str]]:
    return [(name, value) for name, value in _DECLARATION.findall(css)]


def _attribute_value(value: str) -> str:
    return escape(value, quote=True)


def _restyled(match: re.Match, root_defaults: list[tuple[str, str]]) -> str:
    name, attributes, closing = match.group(1), match.group(2), match.group(3)
    pairs = [(key, raw[1:-1]) for key, raw in _ATTRIBUTE.findall(attributes)]
    style = next((value for key, value in pairs if key == "style"), None)
    extra = list(root_defaults) if name == "svg" else []
    if style is None and not extra:
        return match.group(0)
    kept = [(key, value) for key, value in pairs if key != "style"]
    # an inline style overrides the attribute of the same name: drop the attribute
    declared = _declarations(style.replace("&#x27;", "'").replace("&quot;", '"')) if style else []
    names = {key for key, _value in declared}
    kept = [(key, value) for key, value in kept if key not in names]
    given = {key for key, _value in kept} | names
    merged = kept + [(key, value) for key, value in extra if key not in given]
    text = "".join(f' {key}="{value}"' for key, value in merged)
    text += "".join(f' {key}="{_attribute_value(value)}"' for key, value in declared)
    return f"<{name}{text}{' /' if closing else ''}>"


def without_inline_styles(svg: str) -> str:
    """The SVG with its style attributes and its universal <style> rule as presentation
    attributes (the rule's declarations go on the root, whence they are inherited)."""
    defaults: list[tuple[str, str]] = []
    for css in _STYLE_ELEMENT.findall(svg):
        for rule in re.findall(r"\*\s*\{([^}]*)\}", css):
            defaults += _declarations(rule)
    svg = _STYLE_ELEMENT.sub("", svg)
    return _TAG.sub(lambda match: _restyled(match, defaults), svg)
