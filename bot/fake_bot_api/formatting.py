"""Turn ``parse_mode`` text into plain text plus entities, the way the Bot API server does.

Offsets and lengths are in UTF-16 code units, as in the real API. Malformed markup raises
:class:`FormattingError` with a description modelled on the server's "can't parse entities"
messages, so bots that forget to escape user input fail here as they would in production.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FormattingError", "parse_formatted", "utf16_len"]


class FormattingError(Exception):
    """Markup the real server would refuse; ``str()`` is the text after "can't parse entities: "."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (what entity offsets count)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _byte_offset(source: str, index: int) -> int:
    # The server reports positions as UTF-8 byte offsets into the submitted text.
    return len(source[:index].encode("utf-8"))


def parse_formatted(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """Return ``(plain_text, entities)`` for ``text`` sent with ``parse_mode`` (or none)."""
    if not parse_mode:
        return text, []
    mode = parse_mode.lower()
    if mode == "html":
        builder = _HtmlParser(text).parse()
    elif mode == "markdownv2":
        builder = _MarkdownV2Parser(text).parse()
    elif mode == "markdown":
        builder = _MarkdownParser(text).parse()
    else:
        raise ValueError(parse_mode)
    return builder.text(), builder.sorted_entities()


@dataclass
class _Open:
    kind: str
    start: int  # UTF-16 offset in the output
    source_index: int  # index in the source, for error messages
    tag: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class _Builder:
    """Accumulates output characters and finished entities."""

    def __init__(self) -> None:
        self._chars: list[str] = []
        self.pos = 0  # UTF-16 length of the output so far
        self.entities: list[dict[str, Any]] = []

    def add(self, chunk: str) -> None:
        self._chars.append(chunk)
        self.pos += utf16_len(chunk)

    def close(self, item: _Open) -> None:
        length = self.pos - item.start
        # The server silently drops empty entities.
        if length > 0:
            self.entities.append(
                {"type": item.kind, "offset": item.start, "length": length, **item.extra}
            )

    def text(self) -> str:
        return "".join(self._chars)

    def sorted_entities(self) -> list[dict[str, Any]]:
        # Outer entities first when they start at the same place, like the server's output.
        return sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))


_HTML_KINDS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_ATTR_RE = re.compile(
    r"""([a-zA-Z_][a-zA-Z0-9_-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?"""
)
_TAG_RE = re.compile(r"([a-zA-Z][a-zA-Z0-9-]*)")
_CHARREF_RE = re.compile(r"&(#[xX][0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);")
_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class _HtmlParser:
    def __init__(self, source: str) -> None:
        self.src = source
        self.out = _Builder()
        self.stack: list[_Open] = []

    def parse(self) -> _Builder:
        src, i, n = self.src, 0, len(self.src)
        while i < n:
            ch = src[i]
            if ch == "<":
                end = src.find(">", i)
                if end == -1:
                    raise FormattingError(
                        f"Unclosed start tag at byte offset {_byte_offset(src, i)}"
                    )
                inner = src[i + 1 : end]
                if inner.startswith("/"):
                    self._end_tag(inner[1:].strip().lower(), i)
                else:
                    self._start_tag(inner, i)
                i = end + 1
            elif ch == "&":
                match = _CHARREF_RE.match(src, i)
                if match is None:
                    self.out.add("&")
                    i += 1
                    continue
                self.out.add(self._charref(match.group(1)))
                i = match.end()
            else:
                # Copy the run of plain characters in one go.
                nxt = len(src)
                for stop in (src.find("<", i), src.find("&", i)):
                    if stop != -1:
                        nxt = min(nxt, stop)
                self.out.add(src[i:nxt])
                i = nxt
        if self.stack:
            raise FormattingError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].tag}"'
            )
        return self.out

    @staticmethod
    def _charref(ref: str) -> str:
        if ref.startswith(("#x", "#X")):
            return chr(int(ref[2:], 16))
        if ref.startswith("#"):
            return chr(int(ref[1:]))
        # Unknown named entities are kept literally.
        return _NAMED_REFS.get(ref, f"&{ref};")

    def _start_tag(self, inner: str, index: int) -> None:
        match = _TAG_RE.match(inner)
        name = match.group(1).lower() if match else inner.split(" ", 1)[0]
        offset = _byte_offset(self.src, index)
        if match is None or name not in _HTML_KINDS:
            raise FormattingError(f'Unsupported start tag "{name}" at byte offset {offset}')
        attrs = {
            m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or ""
            for m in _ATTR_RE.finditer(inner[match.end() :])
        }
        kind = _HTML_KINDS[name]
        item = _Open(kind=kind, start=self.out.pos, source_index=index, tag=name)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise FormattingError(f'Unsupported start tag "{name}" at byte offset {offset}')
        if name == "a":
            href = attrs.get("href", "")
            if not href:
                # An <a> without href is plain text in Telegram.
                item.kind = ""
            item.extra["url"] = href
        elif name == "tg-emoji":
            item.extra["custom_emoji_id"] = attrs.get("emoji-id", "")
        elif name == "blockquote" and "expandable" in attrs:
            item.kind = "expandable_blockquote"
        elif name == "code" and self.stack and self.stack[-1].tag == "pre":
            # <pre><code class="language-x"> sets the language of the surrounding pre.
            item.kind = ""
            language = attrs.get("class", "")
            if language.startswith("language-"):
                self.stack[-1].extra["language"] = language.removeprefix("language-")
        self.stack.append(item)

    def _end_tag(self, name: str, index: int) -> None:
        offset = _byte_offset(self.src, index)
        if not self.stack:
            raise FormattingError(f'Unexpected end tag at byte offset {offset}, found "</{name}>"')
        top = self.stack.pop()
        if name and name != top.tag:
            raise FormattingError(
                f'Unmatched end tag at byte offset {offset}, expected "</{top.tag}>", '
                f'found "</{name}>"'
            )
        if top.kind:
            self.out.close(top)


_V2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_V2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


class _MarkdownV2Parser:
    def __init__(self, source: str) -> None:
        self.src = source
        self.out = _Builder()
        self.stack: list[_Open] = []

    def reserved(self, ch: str) -> FormattingError:
        return FormattingError(
            f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
        )

    def parse(self) -> _Builder:
        src, n = self.src, len(self.src)
        i = 0
        line_start = True
        while i < n:
            ch = src[i]
            top = self.stack[-1].kind if self.stack else ""
            if ch == "\\":
                if i + 1 < n and 0 < ord(src[i + 1]) <= 126:
                    self.out.add(src[i + 1])
                    i += 2
                    line_start = False
                    continue
                raise self.reserved(ch)
            if top in ("code", "pre"):
                i = self._inside_code(i, top)
                continue
            if line_start and ch == ">":
                if not any(o.kind == "blockquote" for o in self.stack):
                    self.stack.append(_Open("blockquote", self.out.pos, i))
                i += 1
                line_start = False
                continue
            line_start = False
            if ch == "\n":
                self._maybe_end_blockquote(i)
                self.out.add(ch)
                line_start = True
                i += 1
            elif ch == "`":
                i = self._open_code(i)
            elif ch == "*":
                self._toggle("bold", i)
                i += 1
            elif ch == "_":
                if src.startswith("__", i):
                    self._toggle("underline", i)
                    i += 2
                else:
                    self._toggle("italic", i)
                    i += 1
            elif ch == "~":
                self._toggle("strikethrough", i)
                i += 1
            elif ch == "|":
                if not src.startswith("||", i):
                    raise self.reserved(ch)
                self._toggle("spoiler", i)
                i += 2
            elif ch == "[":
                self.stack.append(_Open("text_link", self.out.pos, i))
                i += 1
            elif ch == "!" and src.startswith("![", i):
                self.stack.append(_Open("custom_emoji", self.out.pos, i))
                i += 2
            elif ch == "]":
                i = self._close_link(i)
            elif ch in _V2_RESERVED:
                raise self.reserved(ch)
            else:
                self.out.add(ch)
                i += 1
        if self.stack and self.stack[-1].kind == "blockquote":
            self.out.close(self.stack.pop())
        if self.stack:
            item = self.stack[-1]
            raise FormattingError(
                f"Can't find end of {_V2_NAMES.get(item.kind, item.kind)} entity at byte offset "
                f"{_byte_offset(self.src, item.source_index)}"
            )
        return self.out

    def _maybe_end_blockquote(self, index: int) -> None:
        if not self.stack or self.stack[-1].kind != "blockquote":
            return
        if not self.src.startswith(">", index + 1):
            self.out.close(self.stack.pop())

    def _inside_code(self, i: int, kind: str) -> int:
        src = self.src
        if src[i] != "`":
            self.out.add(src[i])
            return i + 1
        if kind == "pre":
            if not src.startswith("```", i):
                raise self.reserved("`")
            self.out.close(self.stack.pop())
            return i + 3
        self.out.close(self.stack.pop())
        return i + 1

    def _open_code(self, i: int) -> int:
        src = self.src
        if not src.startswith("```", i):
            self.stack.append(_Open("code", self.out.pos, i))
            return i + 1
        item = _Open("pre", self.out.pos, i)
        j = i + 3
        newline = src.find("\n", j)
        first_line = src[j:newline] if newline != -1 else ""
        if newline != -1 and re.fullmatch(r"[A-Za-z0-9_+#.-]*", first_line):
            # ```lang\n ... the first line names the language and is not part of the text.
            if first_line:
                item.extra["language"] = first_line
            j = newline + 1
        self.stack.append(item)
        return j

    def _toggle(self, kind: str, i: int) -> None:
        if self.stack and self.stack[-1].kind == kind:
            self.out.close(self.stack.pop())
            return
        if any(o.kind == kind for o in self.stack):
            # Overlapping (not nested) entities are refused by the server.
            opened = next(o for o in reversed(self.stack) if o.kind == kind)
            raise FormattingError(
                f"Can't find end of {_V2_NAMES[kind]} entity at byte offset "
                f"{_byte_offset(self.src, opened.source_index)}"
            )
        self.stack.append(_Open(kind, self.out.pos, i))

    def _close_link(self, i: int) -> int:
        src = self.src
        if not self.stack or self.stack[-1].kind not in ("text_link", "custom_emoji"):
            raise self.reserved("]")
        item = self.stack.pop()
        if not src.startswith("(", i + 1):
            raise FormattingError(
                f"Can't find end of {_V2_NAMES[item.kind]} entity at byte offset "
                f"{_byte_offset(src, item.source_index)}"
            )
        j = i + 2
        url_chars: list[str] = []
        while j < len(src) and src[j] != ")":
            if src[j] == "\\" and j + 1 < len(src):
                j += 1
            url_chars.append(src[j])
            j += 1
        if j >= len(src):
            raise FormattingError(
                f"Can't find end of {_V2_NAMES[item.kind]} entity at byte offset "
                f"{_byte_offset(src, item.source_index)}"
            )
        url = "".join(url_chars)
        if item.kind == "custom_emoji":
            item.extra["custom_emoji_id"] = url.rsplit("id=", 1)[-1]
        else:
            item.extra["url"] = url
        self.out.close(item)
        return j + 1


class _MarkdownParser:
    """Legacy ``Markdown``: no nesting, only ``*_`[`` are special."""

    def __init__(self, source: str) -> None:
        self.src = source
        self.out = _Builder()

    def unclosed(self, index: int) -> FormattingError:
        return FormattingError(
            f"Can't find end of the entity starting at byte offset {_byte_offset(self.src, index)}"
        )

    def parse(self) -> _Builder:
        src, n, i = self.src, len(self.src), 0
        kinds = {"*": "bold", "_": "italic"}
        while i < n:
            ch = src[i]
            if ch == "\\" and i + 1 < n and src[i + 1] in "*_`[":
                self.out.add(src[i + 1])
                i += 2
            elif ch in kinds:
                end = src.find(ch, i + 1)
                if end == -1:
                    raise self.unclosed(i)
                self._entity(kinds[ch], src[i + 1 : end])
                i = end + 1
            elif ch == "`" and src.startswith("```", i):
                end = src.find("```", i + 3)
                if end == -1:
                    raise self.unclosed(i)
                body = src[i + 3 : end]
                extra: dict[str, Any] = {}
                first, sep, rest = body.partition("\n")
                if sep and first and re.fullmatch(r"[A-Za-z0-9_+#.-]+", first):
                    extra["language"] = first
                    body = rest
                self._entity("pre", body, extra)
                i = end + 3
            elif ch == "`":
                end = src.find("`", i + 1)
                if end == -1:
                    raise self.unclosed(i)
                self._entity("code", src[i + 1 : end])
                i = end + 1
            elif ch == "[":
                close = src.find("]", i + 1)
                if close == -1 or not src.startswith("(", close + 1):
                    raise self.unclosed(i)
                end = src.find(")", close + 2)
                if end == -1:
                    raise self.unclosed(i)
                self._entity("text_link", src[i + 1 : close], {"url": src[close + 2 : end]})
                i = end + 1
            else:
                self.out.add(ch)
                i += 1
        return self.out

    def _entity(self, kind: str, body: str, extra: dict[str, Any] | None = None) -> None:
        item = _Open(kind, self.out.pos, 0, extra=extra or {})
        self.out.add(body)
        self.out.close(item)
