"""From file bytes to text and JSON values, one line or record failing alone: the encoding decided from the
evidence of the whole file, lines that contradict it kept as escaped bytes so that the row holding them is
rejected with those bytes shown (:func:`decode`, :func:`stray_bytes`), and JSON parsed with a nesting limit
(:func:`loads`) so that one hostile record cannot end the read (``docs/explanation.md``, "Reading exports").
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Any

#: Deepest nesting of arrays and objects a JSON record may have. Real exports stay below ten levels (an
#: xAPI statement's ``context.contextActivities.parent[0].definition.name`` is six); a deeper record is
#: rejected as a row, before Python's recursion limit could end the whole read.
MAX_JSON_DEPTH = 64

# Bytes that do not belong to the file's encoding are kept as lone surrogates (Python's "surrogateescape"):
# U+DC80..U+DCFF stand for the bytes 0x80..0xFF, so a cell holding them still knows its exact bytes.
_ESCAPED = re.compile("[\udc80-\udcff]")


_MULTIBYTE = re.compile("[^\x00-\x7f\udc80-\udcff]")


def _evidence(line: bytes) -> tuple[bool, bool]:
    """Does a line hold UTF-8 text beyond ASCII, and bytes that are not UTF-8? (A line can hold both.)"""
    if line.isascii():
        return False, False
    text = line.decode("utf-8", errors="surrogateescape")
    return _MULTIBYTE.search(text) is not None, _ESCAPED.search(text) is not None


def decode(data: bytes) -> tuple[str, str]:
    """Decode file bytes; return the text and how it was decoded (for the table's notes).

    A byte-order mark decides (UTF-8, UTF-16). Otherwise the file is UTF-8 when it decodes as UTF-8. When it
    does not, the lines holding non-ASCII bytes are the evidence (ASCII lines read alike in every encoding):
    if the lines holding UTF-8 characters beyond ASCII are at least as many as the lines holding bytes that
    are not UTF-8 (a line may count on both sides: a JSON document on one line), the file is UTF-8 with a
    few stray bytes; else it is a legacy single-byte file (cp1252, or latin-1 when cp1252 cannot decode
    it). Bytes that contradict the encoding so chosen (invalid UTF-8 in a UTF-8 file; lines of UTF-8 text
    in a legacy file, which would read as "JosÃ©") stay escaped: :func:`stray_bytes` finds them in a
    value, and the readers reject the row holding them, showing the bytes.
    """
    if data.startswith(codecs.BOM_UTF8):
        text, how = decode(data[len(codecs.BOM_UTF8) :])
        return text, how.replace("utf-8", "utf-8 with BOM", 1)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode Text"
        return data.decode("utf-16", errors="replace"), "utf-16 with BOM"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    lines = data.splitlines(keepends=True)
    evidence = [_evidence(ln) for ln in lines]
    valid = sum(v for v, _ in evidence)
    invalid = sum(b for _, b in evidence)
    if valid >= invalid:
        n = invalid
        return data.decode("utf-8", errors="surrogateescape"), (
            f"utf-8 ({n} line(s) holding bytes that are not UTF-8: their rows are rejected)"
        )
    try:
        data.decode("cp1252")
        legacy = "cp1252"
    except UnicodeDecodeError:
        legacy = "latin-1"
    if not valid:
        return data.decode(legacy), legacy
    parts = [
        ln.decode("ascii", errors="surrogateescape") if utf8 and not other else ln.decode(legacy)
        for ln, (utf8, other) in zip(lines, evidence, strict=True)
    ]
    return "".join(parts), f"{legacy} ({valid} line(s) written in UTF-8: their rows are rejected)"


def stray_bytes(text: str) -> bytes | None:
    """The bytes of ``text`` when it holds bytes escaped by :func:`decode`; ``None`` when it is clean."""
    if not _ESCAPED.search(text):
        return None
    return text.encode("utf-8", errors="surrogateescape")


def printable(text: str) -> str:
    """``text`` with escaped bytes shown as U+FFFD (for tables and messages, which must stay encodable)."""
    return _ESCAPED.sub("\ufffd", text)


def encoding_reason(value: bytes, encoding: str, line: int | None, where: str = "") -> str:
    """Why a row holding ``value`` (bytes not of the file's ``encoding``) is rejected, and the fix."""
    at = f"line {line}: " if line is not None else ""
    if encoding.startswith("utf-8"):
        what = f"{value!r} is not valid UTF-8 (the rest of the file is UTF-8)"
    else:
        what = f"{value!r} is UTF-8 text in a file otherwise encoded {encoding.split()[0]}"
    return f"{at}{where}{what}; re-export the file as UTF-8"


class TooDeep(ValueError):
    """A JSON value nested deeper than :data:`MAX_JSON_DEPTH`."""


def _depth(value: Any) -> int:
    """Deepest nesting of lists and dicts in a parsed JSON value (without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            v = list(v.values())
        elif not isinstance(v, list):
            continue
        deepest = max(deepest, d)
        if d > MAX_JSON_DEPTH:
            break
        stack.extend((x, d + 1) for x in v if isinstance(x, (list, dict)))
    return deepest


class RepeatedKeys(dict):  # type: ignore[type-arg]  # a JSON object: str keys, any values
    """A JSON object that writes a key more than once. As for ``json.loads`` the dict holds the last value;
    :attr:`repeats` lists every repeat as ``(key, earlier value, later value)``."""

    repeats: list[tuple[str, Any, Any]]


def _object(found: list[RepeatedKeys]) -> Any:
    """The ``object_pairs_hook`` of :func:`loads`: a dict, or a :class:`RepeatedKeys` added to ``found``."""

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        d = dict(pairs)
        if len(d) == len(pairs):
            return d
        out = RepeatedKeys(d)
        seen: dict[str, Any] = {}
        out.repeats = []
        for k, v in pairs:
            if k in seen:
                out.repeats.append((k, seen[k], v))
            seen[k] = v
        found.append(out)
        return out

    return hook


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON values (``1`` and ``true``, ``1`` and ``1.0`` are not)."""
    dump = lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False, default=str)  # noqa: E731
    return dump(a) == dump(b)


def _shown(v: Any) -> str:
    text = json.dumps(v, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:39] + "…"


def repeated_keys(value: Any) -> tuple[str | None, int]:
    """Why a parsed JSON record that writes a key twice with different values cannot be read (the first such
    key, by its dotted path, with both values), or ``None``; and how many keys it repeats with the same value
    (read once: nothing is lost)."""
    same = 0
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, v = stack.pop()
        if isinstance(v, dict):
            for k, a, b in getattr(v, "repeats", ()):
                if same_json(a, b):
                    same += 1
                else:
                    why = (f"the key {path + k!r} is written twice with different values ({_shown(a)}, "
                           f"then {_shown(b)}): which one is meant cannot be known (most JSON readers "
                           "silently keep the last); export each key once")
                    return why, same
            stack.extend((f"{path}{k}.", x) for k, x in v.items() if isinstance(x, (dict, list)))
        elif isinstance(v, list):
            at = path.rstrip(".")
            stack.extend((f"{at}[{i}].", x) for i, x in enumerate(v) if isinstance(x, (dict, list)))
    return None, same


def loads(text: str | bytes, repeats: list[RepeatedKeys] | None = None) -> Any:
    """``json.loads`` that raises :class:`TooDeep` (not ``RecursionError``) for values nested deeper than
    :data:`MAX_JSON_DEPTH`; ``json.JSONDecodeError`` as ``json.loads`` does. An object that writes a key
    more than once is a :class:`RepeatedKeys` (appended to ``repeats`` when given) instead of a plain dict
    silently keeping the last value: :func:`repeated_keys` says whether a record can be read."""
    found = repeats if repeats is not None else []
    try:
        value = json.loads(text, object_pairs_hook=_object(found))
    except RecursionError:
        raise TooDeep(f"nested more deeply than Python's recursion limit (at most {MAX_JSON_DEPTH} "
                      "levels of arrays and objects are read)") from None
    if isinstance(text, bytes):
        count = text.count(b"[") + text.count(b"{")
    else:
        count = text.count("[") + text.count("{")
    if count > MAX_JSON_DEPTH and _depth(value) > MAX_JSON_DEPTH:
        raise TooDeep(f"nested more than {MAX_JSON_DEPTH} levels deep (arrays and objects); no export "
                      "needs that many")
    return value


def stray_in(value: Any) -> bytes | None:
    """The first string (key or value) inside a parsed JSON value that holds escaped bytes, as bytes."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if (b := stray_bytes(v)) is not None:
                return b
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return None
