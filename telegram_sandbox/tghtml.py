"""Telegram's `parse_mode=HTML` dialect: validate like the Bot API, render safely.

The sandbox must reject what Telegram rejects (so bugs surface in dev, not in
production) and the phone page must never trust message text: rendering goes
through the parsed tokens, so only whitelisted tags can reach the browser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape

#: Tags Telegram accepts; aliases are rendered as their canonical form.
CANONICAL_TAGS: dict[str, str] = {
    "b": "b",
    "strong": "b",
    "i": "i",
    "em": "i",
    "u": "u",
    "ins": "u",
    "s": "s",
    "strike": "s",
    "del": "s",
    "a": "a",
    "code": "code",
    "pre": "pre",
    "span": "tg-spoiler",
    "tg-spoiler": "tg-spoiler",
    "blockquote": "blockquote",
}
SAFE_LINK_SCHEMES = ("http://", "https://", "tg://", "mailto:")

_TAG_RE = re.compile(
    r"<(?P<close>/?)(?P<name>[A-Za-z][A-Za-z0-9-]*)"
    r"(?P<attrs>(?:\s+[A-Za-z][A-Za-z0-9_-]*"
    r"(?:\s*=\s*(?:\"[^\"<>]*\"|'[^'<>]*'|[^\s\"'<>=`]+))?)*)\s*>"
)
_ATTR_RE = re.compile(
    r"([A-Za-z][A-Za-z0-9_-]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'<>=`]+)))?"
)
_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPECIAL = re.compile(r"[<>&]")


class EntityParseError(ValueError):
    """Text is not valid Telegram HTML; the message mirrors the Bot API's."""


@dataclass(frozen=True)
class Text:
    value: str


@dataclass(frozen=True)
class StartTag:
    name: str  # canonical name
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EndTag:
    name: str  # canonical name


Token = Text | StartTag | EndTag


def _offset(text: str, index: int) -> int:
    """Telegram reports positions as UTF-8 byte offsets."""
    return len(text[:index].encode())


def _unescape(text: str, start: int, value: str) -> str:
    """Decode entities, insisting that every `&` starts a supported one."""
    out: list[str] = []
    pos = 0
    while (amp := value.find("&", pos)) != -1:
        out.append(value[pos:amp])
        match = _ENTITY_RE.match(value, amp)
        if match is None:
            raise EntityParseError(
                f"Character '&' must be escaped as \"&amp;\" at byte offset "
                f"{_offset(text, start) + len(value[:amp].encode())}"
            )
        out.append(_decode_entity(match))
        pos = match.end()
    out.append(value[pos:])
    return "".join(out)


def _decode_entity(match: re.Match[str]) -> str:
    named, dec, hexa = match.groups()
    if named:
        return _NAMED[named]
    codepoint = int(dec) if dec else int(hexa, 16)
    if codepoint == 0 or codepoint > 0x10FFFF or 0xD800 <= codepoint <= 0xDFFF:
        raise EntityParseError(f"Invalid numeric entity {match.group(0)!r}")
    return chr(codepoint)


def _attributes(text: str, start: int, raw: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for match in _ATTR_RE.finditer(raw):
        name = match.group(1).lower()
        value = next((g for g in match.groups()[1:] if g is not None), "")
        attrs[name] = _unescape(text, start, value)
    return attrs


def _check_start(
    tag: str, name: str, attrs: dict[str, str], stack: list[tuple[str, str]], pos: int
) -> None:
    parent = stack[-1][1] if stack else None
    if parent == "code":
        raise EntityParseError(f'Can\'t use tag "{name}" inside "code" at byte offset {pos}')
    if parent == "pre" and tag != "code":
        raise EntityParseError(f'Can\'t use tag "{name}" inside "pre" at byte offset {pos}')
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {pos}')


def parse(text: str) -> list[Token]:
    """Tokenise Telegram HTML, raising `EntityParseError` where Telegram would."""
    tokens: list[Token] = []
    stack: list[tuple[str, str]] = []  # (name as written, canonical tag)
    index = 0
    while index < len(text):
        special = _SPECIAL.search(text, index)
        stop = special.start() if special else len(text)
        if stop > index:
            tokens.append(Text(text[index:stop]))
            index = stop
            continue
        char = text[index]
        pos = _offset(text, index)
        if char == ">":
            raise EntityParseError(
                f"Character '>' must be escaped as \"&gt;\" at byte offset {pos}"
            )
        if char == "&":
            match = _ENTITY_RE.match(text, index)
            if match is None:
                raise EntityParseError(
                    f"Character '&' must be escaped as \"&amp;\" at byte offset {pos}"
                )
            tokens.append(Text(_decode_entity(match)))
            index = match.end()
            continue
        tag_match = _TAG_RE.match(text, index)
        if tag_match is None:
            raise EntityParseError(
                f"Character '<' must be escaped as \"&lt;\" at byte offset {pos}"
            )
        name = tag_match.group("name").lower()
        tag = CANONICAL_TAGS.get(name)
        if tag_match.group("close"):
            if tag_match.group("attrs").strip():
                raise EntityParseError(f"End tag can't have attributes at byte offset {pos}")
            if not stack:
                raise EntityParseError(f'Unexpected end tag "{name}" at byte offset {pos}')
            opened, canonical = stack.pop()
            if name != opened:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {pos}, expected "</{opened}>", '
                    f'found "</{name}>"'
                )
            tokens.append(EndTag(canonical))
        else:
            if tag is None:
                raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {pos}')
            attrs = _attributes(text, index, tag_match.group("attrs"))
            _check_start(tag, name, attrs, stack, pos)
            stack.append((name, tag))
            tokens.append(StartTag(tag, attrs))
        index = tag_match.end()
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return tokens


def plain_text(tokens: list[Token]) -> str:
    """The text a user reads once formatting is applied (what Telegram counts)."""
    return "".join(token.value for token in tokens if isinstance(token, Text))


def _open_tag(token: StartTag) -> str:
    if token.name == "a":
        href = token.attrs.get("href", "").strip()
        if href.lower().startswith(SAFE_LINK_SCHEMES):
            return f'<a href="{escape(href)}" rel="noopener noreferrer nofollow" target="_blank">'
        return "<a>"
    if token.name == "tg-spoiler":
        return '<span class="tg-spoiler">'
    return f"<{token.name}>"


def _close_tag(token: EndTag) -> str:
    return "</span>" if token.name == "tg-spoiler" else f"</{token.name}>"


def to_safe_html(tokens: list[Token]) -> str:
    """Re-emit only whitelisted tags (fixed attributes); all text is escaped."""
    parts: list[str] = []
    for token in tokens:
        if isinstance(token, Text):
            parts.append(escape(token.value))
        elif isinstance(token, StartTag):
            parts.append(_open_tag(token))
        else:
            parts.append(_close_tag(token))
    return "".join(parts)


def utf16_length(text: str) -> int:
    """Telegram measures message length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2
