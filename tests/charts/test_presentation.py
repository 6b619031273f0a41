"""Chart SVG without inline styles: what a page with `style-src 'self'` draws."""

from village_survey.charts.presentation import without_inline_styles


def test_svg_styles_become_presentation_attributes():
    svg = ('<svg viewBox="0 0 1 1"><defs><style type="text/css">*{stroke-linejoin: round; stroke-linecap: butt}'
           '</style></defs><path d="M 0 0" clip-path="url(#a)" style="fill: #fff; stroke: #222"/>'
           "<text style=\"font-size: 10px; font-family: 'Noto Sans CJK SC', sans-serif\">甲 &lt; 乙</text></svg>")
    out = without_inline_styles(svg)
    assert out == ('<svg viewBox="0 0 1 1" stroke-linejoin="round" stroke-linecap="butt"><defs></defs>'
                   '<path d="M 0 0" clip-path="url(#a)" fill="#fff" stroke="#222" />'
                   '<text font-size="10px" font-family="&#x27;Noto Sans CJK SC&#x27;, sans-serif">甲 &lt; 乙</text></svg>')
