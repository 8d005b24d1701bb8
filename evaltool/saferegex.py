"""Regular expressions from codebooks: accepted only when they cannot backtrack badly.

Python's ``re`` backtracks, so an expression such as ``(a+)+$`` takes exponential
time on a string of a's that does not match (each extra character doubles it), and
spaCy's Matcher runs a codebook's REGEX predicates on every token of every
segment. Instead of a time limit at match time (the Matcher cannot be interrupted
per token), expressions are checked at validation by their structure (parsed with
the standard library's own regex parser), and the rule layer never shows them more
than ``MAX_TOKEN_CHARS`` characters of a token. An expression is refused when it

- is longer than ``MAX_REGEX_CHARS`` characters or does not compile;
- uses a back-reference or a conditional group;
- repeats (``*``, ``+``, ``{m,n}`` with n > 1) a part that itself holds a
  quantifier of variable count, or alternatives that do not start with different
  letters: the shapes behind exponential backtracking (``(a+)+``, ``(a|a)*``,
  ``(a?a?)+``, ``(\\w*x)*``);
- has more than ``MAX_VARIABLE_REPEATS`` variable repeats or ``MAX_OPTIONALS``
  optional parts (``?``) in all, or two variable repeats and more than one optional
  part: adjacent repeats such as ``\\w*\\w*\\w*x`` cost a power of the token length,
  each optional part doubles it (measured worst accepted shapes: about 0.5 ms on a
  64-character token).
"""

from __future__ import annotations

import re
from re import _constants as sre_c  # the standard library's parser of `re` (3.11+)
from re import _parser as sre_parse

MAX_REGEX_CHARS = 200
MAX_VARIABLE_REPEATS = 2
MAX_OPTIONALS = 4
MAX_TOKEN_CHARS = 64  # the rule layer cuts longer tokens to this before matching

_REPEATS = (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, sre_c.POSSESSIVE_REPEAT)


class _Refused(Exception):
    """The expression is refused; the message says why."""


def problem(rx: str) -> str | None:
    """Why ``rx`` is refused as a codebook regular expression (None when it is fine)."""
    if len(rx) > MAX_REGEX_CHARS:
        return f"regular expression longer than {MAX_REGEX_CHARS} characters"
    try:
        parsed = sre_parse.parse(rx)
        re.compile(rx)
    except re.error as exc:
        where = f" at position {exc.pos}" if exc.pos is not None else ""
        return f"invalid regular expression: {exc.msg}{where}"
    except (RecursionError, OverflowError, ValueError):
        return "invalid regular expression: too complex"
    counts = {"variable": 0, "optional": 0}
    try:
        _walk(parsed.data, False, counts)
    except _Refused as exc:
        return f"regular expression refused: {exc}"
    if counts["variable"] > MAX_VARIABLE_REPEATS:
        return (f"regular expression refused: more than {MAX_VARIABLE_REPEATS} repeats "
                "of variable length (slow backtracking)")
    if counts["optional"] > MAX_OPTIONALS:
        return (f"regular expression refused: more than {MAX_OPTIONALS} optional parts "
                "(slow backtracking)")
    if counts["variable"] == MAX_VARIABLE_REPEATS and counts["optional"] > 1:
        return (f"regular expression refused: {MAX_VARIABLE_REPEATS} repeats of variable length "
                "allow at most one optional part (slow backtracking)")
    return None


def _walk(items: list, repeated: bool, counts: dict[str, int]) -> None:
    """Check parsed items; ``repeated`` when they sit inside a repeated part."""
    for op, av in items:
        if op in (sre_c.GROUPREF, sre_c.GROUPREF_EXISTS, sre_c.GROUPREF_IGNORE,
                  sre_c.GROUPREF_LOC_IGNORE, sre_c.GROUPREF_UNI_IGNORE):
            raise _Refused("back-references and conditional groups are not supported")
        if op in _REPEATS:
            low, high, body = av
            if low != high:
                if repeated:
                    raise _Refused("a quantifier inside a repeated group (catastrophic backtracking)")
                counts["optional" if high == 1 else "variable"] += 1
            _walk(body, repeated or high > 1, counts)
        elif op == sre_c.SUBPATTERN:
            _walk(av[-1], repeated, counts)
        elif op == sre_c.ATOMIC_GROUP:
            _walk(av, repeated, counts)
        elif op in (sre_c.ASSERT, sre_c.ASSERT_NOT):
            _walk(av[1], repeated, counts)
        elif op == sre_c.BRANCH:
            branches = av[1]
            if repeated:
                firsts = [_first_literal(b) for b in branches]
                if None in firsts or len(set(firsts)) < len(firsts):
                    raise _Refused("alternatives in a repeated group must start with "
                                   "different letters (catastrophic backtracking)")
            for branch in branches:
                _walk(branch, repeated, counts)


def _first_literal(items: list) -> str | None:
    """The lower-cased literal character a branch starts with (None if not a literal)."""
    while items:
        op, av = items[0]
        if op == sre_c.LITERAL:
            return chr(av).lower()
        if op == sre_c.SUBPATTERN:
            items = av[-1]
            continue
        return None
    return None
