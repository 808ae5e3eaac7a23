"""Words for search, the same for every engine: folding text before it is indexed, turning what a
user typed into terms, and cutting a highlighted snippet as plain spans (never markup).

Folding happens here, in Python, rather than in the engine's tokenizer so that SQLite FTS5 and
PostgreSQL full-text search see the same words: case folded, accents and other combining marks
dropped (Arabic harakat, Cyrillic ё -> е, é -> e), Arabic tatweel removed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Any

from backend.models import SnippetSpan

MAX_TERMS = 8
MAX_TERM_CHARS = 64
SNIPPET_CHARS = 160
_LEAD_CHARS = 40
_TATWEEL = "\u0640"
# In ASCII text the words are exactly the runs of letters and digits, and folding is lower():
# a shortcut for the common case (every send is indexed, every hit gets a snippet).
_ASCII_WORD = re.compile(r"[A-Za-z0-9]+")


def fold(text: str) -> str:
    """Lower-case ``text`` and drop combining marks, keeping everything else where it was."""
    # Decomposed before case folding too: compatibility forms such as 𝔘 (a mathematical
    # letter, which has no case) only become a letter with a case ("U") when decomposed.
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    return "".join(
        c for c in decomposed if not unicodedata.category(c).startswith("M") and c != _TATWEEL
    )


def _is_word_char(char: str) -> bool:
    # The token characters of FTS5's unicode61 tokenizer: letters, numbers, private use.
    category = unicodedata.category(char)
    return category[0] in "LN" or category == "Co"


def words(text: str) -> list[str]:
    """The folded words of ``text``, as the index holds them."""
    if text.isascii():
        return [word.lower() for word in _ASCII_WORD.findall(text)]
    folded = fold(text)
    return [folded[start:end] for start, end in _word_spans(folded)]


def _word_spans(text: str) -> Iterator[tuple[int, int]]:
    start = -1
    for i, char in enumerate(text):
        if _is_word_char(char):
            if start < 0:
                start = i
        elif start >= 0:
            yield start, i
            start = -1
    if start >= 0:
        yield start, len(text)


def index_text(content: dict[str, Any]) -> str:
    """The folded words of a message body that search may find ("" for none).

    Text messages give their text, media their caption; bodies the server cannot read
    (e.g. encrypted ones) and tombstones give nothing.
    """
    kind = content.get("type")
    raw = content.get("text") if kind == "text" else content.get("caption")
    return " ".join(words(raw)) if isinstance(raw, str) else ""


def query_terms(text: str) -> list[str]:
    """What a user typed as distinct folded terms; every one must match, as a word prefix.

    Punctuation and operators are just separators, so no engine syntax gets through.
    """
    terms: list[str] = []
    for word in words(text):
        word = word[:MAX_TERM_CHARS]
        if word not in terms:
            terms.append(word)
    return terms[:MAX_TERMS]


def snippet(text: str, terms: list[str]) -> tuple[SnippetSpan, ...]:
    """Up to ``SNIPPET_CHARS`` of ``text`` around its first match, split into spans where the
    words starting with one of ``terms`` are marked."""
    if text.isascii():
        marked = [
            m.span()
            for m in _ASCII_WORD.finditer(text)
            if any(m.group().lower().startswith(t) for t in terms)
        ]
    else:
        marked = [
            (start, end)
            for start, end in _original_word_spans(text)
            if any(w.startswith(t) for w in words(text[start:end]) for t in terms)
        ]
    begin = 0
    if marked and marked[0][0] > _LEAD_CHARS and len(text) > SNIPPET_CHARS:
        begin = max(0, marked[0][0] - _LEAD_CHARS)
        while begin < marked[0][0] and not text[begin - 1].isspace():  # start on a word boundary
            begin += 1
    end = min(len(text), begin + SNIPPET_CHARS)
    spans: list[SnippetSpan] = []
    if begin > 0:
        spans.append(SnippetSpan("…"))
    cursor = begin
    for start, stop in marked:
        if stop <= begin or start >= end:
            continue
        start, stop = max(start, begin), min(stop, end)
        if start > cursor:
            spans.append(SnippetSpan(text[cursor:start]))
        spans.append(SnippetSpan(text[start:stop], match=True))
        cursor = stop
    if end > cursor:
        spans.append(SnippetSpan(text[cursor:end]))
    if end < len(text):
        spans.append(SnippetSpan("…"))
    return tuple(spans)


def _original_word_spans(text: str) -> Iterator[tuple[int, int]]:
    """Words of the unfolded text: letters and numbers with the marks that belong to them."""
    start = -1
    for i, char in enumerate(text):
        inside = _is_word_char(char) or (
            start >= 0 and (unicodedata.category(char).startswith("M") or char == _TATWEEL)
        )
        if inside:
            if start < 0:
                start = i
        elif start >= 0:
            yield start, i
            start = -1
    if start >= 0:
        yield start, len(text)
