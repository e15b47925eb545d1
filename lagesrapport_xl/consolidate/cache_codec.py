"""The cache's codec: a ReadResult's content ↔ the bytes of one cache entry, exactly.

A warm run decodes every known report's entry (6 400 of them, 130 MB, in the benchmark), so the
format is made for decoding. An entry is a line of the answers' keys, a line of JSON, then the long
texts as raw UTF-8:

- The answers' keys (87 of them, the same for every report of a form version) are a line of their
  own: a line seen before is not parsed again, and every report's answers share its key strings.

- A mapping (a result's values, a report's answers) is its keys in order, a list of its values in
  the same order with the plain ones (text, integers, booleans, None) in place, and per other kind
  the positions and the values as text: all the Decimals are made by one `map(Decimal, …)`,
  without a Python call per value as a tagged object each would need.
- A text of LONG characters or more (the free-text answers: most of the bytes) is not in the JSON
  at all: its place says how many bytes it has after the line, and decoding it is one slice and
  one UTF-8 decode, not JSON's scan for escapes.
- Anything else (a tuple, a nested list or mapping) is tagged JSON as before (`$f`, `$n`, `$dt`,
  `$d`, `$t`, `$tuple`, `$map`).

No pickle: a cache file someone swapped must not run code. An entry that does not decode (another
format, damage) raises ValueError, KeyError, TypeError or IndexError, and the file is read afresh.
CODEC is part of the cache's reading context, so entries an older codec wrote are never decoded.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from ..common.issues import Issue, Severity
from ..reader.result import ReadResult

CODEC = 4  # 4: the answers' keys a line of their own; 3: mappings by kind, long texts after the JSON line
_KEY_LINES: dict[bytes, list[str]] = {}  # a line of keys decoded before → its keys (a few: one a form version)
_KEPT_LINES = 64
LONG = 64  # characters: a text this long is stored as raw UTF-8 after the JSON line

Cached = tuple[ReadResult, dict[str, Any] | None]


# --- tagged JSON: the general case -----------------------------------------------------------------


def tagged(value: Any) -> Any:
    """Any value the cache keeps, as JSON with its type tagged."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return {"$f": repr(value)}  # repr round-trips exactly, also nan and inf
    if isinstance(value, Decimal):
        return {"$n": str(value)}
    if isinstance(value, dt.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$d": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$t": value.isoformat()}
    if isinstance(value, tuple):
        return {"$tuple": [tagged(v) for v in value]}
    if isinstance(value, list):
        return [tagged(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"$map": {k: tagged(v) for k, v in value.items()}}
    raise TypeError(f"cannot cache a {type(value).__name__}")


_TAGS: dict[str, Callable[[Any], Any]] = {
    "$f": float,
    "$n": Decimal,
    "$dt": dt.datetime.fromisoformat,
    "$d": dt.date.fromisoformat,
    "$t": dt.time.fromisoformat,
    "$tuple": lambda items: tuple(untagged(v) for v in items),
    "$map": lambda mapping: {k: untagged(v) for k, v in mapping.items()},
}


def untagged(value: Any) -> Any:
    if isinstance(value, list):
        return [untagged(v) for v in value]
    if isinstance(value, dict):
        (tag, inner), = value.items()
        return _TAGS[tag](inner)
    return value


# --- mappings by kind ------------------------------------------------------------------------------

# The kinds a mapping's values are grouped by, with how each is written and read. "g" is the
# general case (tagged JSON), "s" a long text (its length in bytes; the text after the line).
_WRITE: dict[type, tuple[str, Callable[[Any], Any]]] = {
    Decimal: ("n", str),
    dt.date: ("d", dt.date.isoformat),
    dt.datetime: ("D", dt.datetime.isoformat),
    float: ("f", repr),
}
_READ: tuple[tuple[str, Callable[[Any], Any]], ...] = (
    ("n", Decimal),
    ("d", dt.date.fromisoformat),
    ("D", dt.datetime.fromisoformat),
    ("f", float),
    ("g", untagged),
)
_PLAIN = frozenset({str, int, bool, type(None)})


def encode_map(mapping: dict[str, Any], texts: list[bytes]) -> dict[str, Any]:
    """A mapping as {"k": keys, "v": values (the plain ones in place), kind: [positions, values]};
    its long texts are appended to `texts`."""
    keys, values = [], []
    groups: dict[str, tuple[list[int], list[Any]]] = {}
    for position, (key, value) in enumerate(mapping.items()):
        if not isinstance(key, str):
            raise TypeError(f"cannot cache a key of type {type(key).__name__}")
        keys.append(key)
        kind = value.__class__
        if kind in _PLAIN:
            if kind is str and len(value) >= LONG:
                data = value.encode("utf-8", "surrogatepass")
                texts.append(data)
                tag, value = "s", len(data)
            else:
                values.append(value)
                continue
        else:
            tag, write = _WRITE.get(kind, ("g", tagged))
            value = write(value)
        values.append(None)
        group = groups.setdefault(tag, ([], []))
        group[0].append(position)
        group[1].append(value)
    return {"k": keys, "v": values, **groups}


def decode_map(data: dict[str, Any], payload: bytes, at: int, keys: list[str] | None = None
               ) -> tuple[dict[str, Any], int]:
    """The mapping encode_map wrote, its long texts read from `payload` at `at`; and where they end.
    `keys`: the mapping's keys when they were kept apart from it (see pack)."""
    keys, values = data["k"] if keys is None else keys, data["v"]
    if len(keys) != len(values):
        raise ValueError("a cached mapping has as many values as keys")
    for tag, read in _READ:
        group = data.get(tag)
        if group is not None:
            for position, value in zip(group[0], map(read, group[1]), strict=True):
                values[position] = value
    group = data.get("s")
    if group is not None:
        for position, size in zip(group[0], group[1], strict=True):
            end = at + size
            if end > len(payload):
                raise ValueError("a cached text runs past the entry")
            values[position] = payload[at:end].decode("utf-8", "surrogatepass")
            at = end
    return dict(zip(keys, values)), at


# --- entries ---------------------------------------------------------------------------------------


def issue_payload(issue: Issue) -> list[Any]:
    return [issue.severity.value, issue.message, issue.code, issue.sheet, issue.cell, issue.field, issue.label,
            tagged(issue.value)]


def full_issue(data: list[Any]) -> Issue:
    severity, message, code, sheet, cell, field, label, value = data
    return Issue(Severity(severity), message, code, sheet, cell, field, label, untagged(value))


def pack(result: ReadResult, issues: list[Any], values: dict[str, Any], unread: Iterable[str],
         answers: dict[str, Any] | None) -> bytes:
    """An entry: the answers' keys, the JSON line, then the long texts of `values` and `answers`,
    in that order."""
    texts: list[bytes] = []
    mapped_values = encode_map(values, texts)  # the values' texts first, as unpack reads them
    mapped = None if answers is None else encode_map(answers, texts)
    keys = None if mapped is None else mapped.pop("k")
    head = {
        "issues": issues,
        "values": mapped_values,
        "unread": sorted(unread),
        "form_version": result.form_version,
        "skipped": result.skipped,
        "answers": mapped,
    }
    # JSON escapes every line break: the first two b"\n" end the lines
    lines = (_json(keys), _json(head))
    return b"\n".join(line.encode("utf-8", "surrogatepass") for line in lines) + b"\n" + b"".join(texts)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _keys(line: bytes) -> list[str] | None:
    """The keys of a line of keys, parsed once per distinct line."""
    keys = _KEY_LINES.get(line)
    if keys is None:
        keys = json.loads(line.decode("utf-8", "surrogatepass"))
        if keys is not None:
            if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
                raise ValueError("a cached line of keys is a list of texts")
            if len(_KEY_LINES) >= _KEPT_LINES:
                _KEY_LINES.clear()
            _KEY_LINES[line] = keys
    return keys


def unpack(payload: bytes, issue: Callable[[list[Any]], Issue], *, file: str, sha256: str, size: int | None,
           modified: dt.datetime | None) -> Cached:
    """The result and answers of an entry, with this file's own path, size and time."""
    first = payload.index(b"\n")
    end = payload.index(b"\n", first + 1)
    keys = _keys(payload[:first])
    data = json.loads(payload[first + 1 : end].decode("utf-8", "surrogatepass"))
    values, at = decode_map(data["values"], payload, end + 1)
    answers = data["answers"]
    if (answers is None) != (keys is None):
        raise ValueError("a cache entry has keys for its answers exactly when it has answers")
    if answers is not None:
        answers, at = decode_map(answers, payload, at, keys)
    if at != len(payload):
        raise ValueError("a cache entry has bytes after its texts")
    result = ReadResult(
        file=file,
        issues=[issue(i) for i in data["issues"]],
        values=values,
        unread=frozenset(data["unread"]),
        form_version=data["form_version"],
        sha256=sha256,
        size=size,
        modified=modified,
        skipped=data["skipped"],
    )
    return result, answers
