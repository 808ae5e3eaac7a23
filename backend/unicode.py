"""Text from clients must be real Unicode: JSON can smuggle in lone surrogates (e.g. "\\ud800"),
which no storage or encoder accepts, so they are refused at the door as bad input."""

from __future__ import annotations

from backend.errors import InvalidInput


def require_encodable(text: str, what: str = "The text") -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{what} contains characters that are not valid Unicode.") from None
    return text
