"""JSON from outside (request bodies, imported files), read so that what it holds can be
validated, stored and echoed in an error message.

`json.loads` alone accepts what Redline cannot handle: nesting deep enough to raise
RecursionError, lone surrogates ("\\ud800"), which neither a UTF-8 response nor a Postgres
column can hold (an error message that quotes one cannot even be sent), and NaN or infinities
(1e999 too), which jsonb refuses. `loads` refuses all of them with a JSONInputError: a
json.JSONDecodeError, so a ValueError, whose message names the problem and where it is, never
the offending character itself.
"""

import json
import math
import re
import sys

MAX_DEPTH = 32  # arrays and objects inside each other; Redline's own shapes need 4 at most

_SURROGATE = re.compile("[\ud800-\udfff]")
# What json's scanner reads, as far as positions are concerned: strings (skipped whole), brackets,
# the constants and numbers.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]|-?Infinity|NaN|-?[0-9][0-9.eE+-]*', re.DOTALL)


class JSONInputError(json.JSONDecodeError):
    """JSON that is well formed but that Redline refuses (too deep, a lone surrogate, not a finite number)."""


class _Refused(Exception):
    def __init__(self, msg: str, token: str):
        super().__init__(msg)
        self.msg, self.token = msg, token


def _constant(name: str):
    raise _Refused(f"{name} is not a number JSON allows", name)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused("a number too large to store", text)
    return value


def _int(text: str) -> int:
    if len(text) > sys.get_int_max_str_digits() > 0:
        raise _Refused("a number with too many digits", text)
    return int(text)


def loads(text: str, *, max_depth: int = MAX_DEPTH):
    """`text` parsed as JSON; JSONInputError (or json.JSONDecodeError) when it is not acceptable."""
    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_float, parse_int=_int)
    except RecursionError:
        raise _too_deep(text, max_depth) from None
    except _Refused as exc:
        raise JSONInputError(exc.msg, text, _token_position(text, exc.token)) from None
    problem = _problem(value, max_depth)
    if problem == "depth":
        raise _too_deep(text, max_depth)
    if problem == "surrogate":
        raise JSONInputError(
            "a string holds a lone surrogate (U+D800 to U+DFFF), which is not Unicode text",
            text,
            _surrogate_position(text),
        )
    return value


def _problem(value, max_depth: int) -> str | None:
    """'depth', 'surrogate' or None, found without recursion."""
    if isinstance(value, str):
        return "surrogate" if _SURROGATE.search(value) else None
    stack = [(value, 1)] if isinstance(value, (dict, list)) else []
    while stack:
        container, depth = stack.pop()
        if depth > max_depth:
            return "depth"
        if isinstance(container, dict):
            if any(_SURROGATE.search(key) for key in container):
                return "surrogate"
            items = container.values()
        else:
            items = container
        for item in items:
            if isinstance(item, str):
                if _SURROGATE.search(item):
                    return "surrogate"
            elif isinstance(item, (dict, list)):
                stack.append((item, depth + 1))
    return None


def _too_deep(text: str, max_depth: int) -> JSONInputError:
    depth = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > max_depth:
                return JSONInputError(f"nested deeper than {max_depth} levels", text, match.start())
        elif token in ("]", "}"):
            depth -= 1
    return JSONInputError(f"nested deeper than {max_depth} levels", text, 0)


def _token_position(text: str, wanted: str) -> int:
    return next((m.start() for m in _TOKEN.finditer(text) if m.group() == wanted), 0)


def _surrogate_position(text: str) -> int:
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token.startswith('"') and _SURROGATE.search(json.loads(token)):
            return match.start()
    return 0
