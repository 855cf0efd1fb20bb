"""Pure checks of the Telegram HTML parser/renderer (no server needed)."""

from __future__ import annotations

import pytest

from telegram_sandbox import tghtml


def test_plain_text_and_entities():
    tokens = tghtml.parse("<b>A &amp; B</b> &lt;3 &#x1F600; &#65;")
    assert tghtml.plain_text(tokens) == "A & B <3 😀 A"


def test_case_insensitive_tags_and_aliases():
    html = tghtml.to_safe_html(tghtml.parse("<STRONG>x</STRONG><em>y</em><del>z</del>"))
    assert html == "<b>x</b><i>y</i><s>z</s>"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", 'Unexpected end tag "b" at byte offset 1'),
        ("<p>x</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("ñ & x", "Character '&' must be escaped"),
        ("ñ < x", "byte offset 3"),
        ("<code><b>x</b></code>", 'inside "code"'),
        ("<pre><i>x</i></pre>", 'inside "pre"'),
        ("&#0;", "Invalid numeric entity"),
        ('<a href="?a=1&b=2">x</a>', "Character '&' must be escaped"),
    ],
)
def test_errors_point_at_the_problem(text, fragment):
    with pytest.raises(tghtml.EntityParseError) as error:
        tghtml.parse(text)
    assert fragment in str(error.value)


def test_pre_with_code_is_allowed():
    tokens = tghtml.parse('<pre><code class="language-python">x = 1</code></pre>')
    assert tghtml.to_safe_html(tokens) == "<pre><code>x = 1</code></pre>"


def test_render_escapes_text_and_unsafe_links():
    tokens = tghtml.parse(
        '<a href="javascript:alert(1)">&lt;img&gt;</a><a href=\'https://x.cl/"q\'>y</a>'
    )
    html = tghtml.to_safe_html(tokens)
    assert html.startswith("<a>&lt;img&gt;</a>")
    assert 'href="https://x.cl/&quot;q"' in html


def test_utf16_length_counts_like_telegram():
    assert tghtml.utf16_length("ñ") == 1
    assert tghtml.utf16_length("😀") == 2
