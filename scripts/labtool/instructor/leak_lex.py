"""The lexer of the leak check (leaks.py): C++ source, or prose lexed as if it were code, as
tokens with their lines; normalization (`std::` and `this->` dropped) and statements."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Token:
    kind: str  # "id", "num", "str", "chr", "punct", "comment", "pp"
    text: str
    line: int


# --- lexing ---------------------------------------------------------------------------------

_PUNCT = sorted("""
    ... <<= >>= <=> -> ++ -- << >> <= >= == != && || += -= *= /= %= &= |= ^= :: .* ->*
    { } [ ] ( ) ; : , . ? ! ~ + - * / % & | ^ = < > #
""".split(), key=len, reverse=True)

_LEX = re.compile(
    r"(?P<comment>//[^\n]*|/\*.*?\*/)"
    r"|(?P<raw>R\"(?P<delim>[^(\s]{0,16})\(.*?\)(?P=delim)\")"
    r"|(?P<str>(?:u8|u|U|L)?\"(?:\\.|[^\"\\\n])*\")"
    r"|(?P<chr>(?:u8|u|U|L)?'(?:\\.|[^'\\\n]){1,4}')"
    r"|(?P<num>\.?\d(?:[\w.']|[eEpP][+-])*)"
    r"|(?P<id>[A-Za-z_]\w*)"
    r"|(?P<punct>" + "|".join(re.escape(p) for p in _PUNCT) + r")"
    r"|(?P<ws>\s+)"
    r"|(?P<other>.)",
    re.S,
)


def lex(text: str, first_line: int = 1) -> list[Token]:
    """Tokens of C++ source (or of prose, lexed as if it were code). Whitespace is dropped;
    a character that starts no token (an unpaired quote in prose, say) is its own token."""
    tokens = []
    line = first_line
    for m in _LEX.finditer(text):
        kind = m.lastgroup
        value = m.group()
        if kind == "raw":
            kind = "str"
        if kind != "ws":
            tokens.append(Token("punct" if kind == "other" else kind, value, line))
        line += value.count("\n")
    return tokens


def mark_preprocessor(tokens: list[Token]) -> list[Token]:
    """Preprocessor lines (`#include ...`, `#pragma once`) are neither code nor prose."""
    out = []
    pp_line = None
    for i, t in enumerate(tokens):
        if t.text == "#" and (i == 0 or tokens[i - 1].line != t.line):
            pp_line = t.line
        if t.line == pp_line and t.kind != "comment":
            out.append(Token("pp", t.text, t.line))
        else:
            out.append(t)
    return out


def normalize(tokens: list[Token]) -> list[Token]:
    """Drops `std ::` and `this ->`: `std::memory_order_relaxed` and `memory_order_relaxed`
    are the same fragment, and so are `this->count_` and `count_`."""
    out = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        nxt = tokens[i + 1].text if i + 1 < len(tokens) else ""
        if (t.text, nxt) in (("std", "::"), ("this", "->")):
            i += 2
            continue
        out.append(t)
        i += 1
    return out


def statements(tokens: list[Token]) -> list[list[Token]]:
    """Code tokens split at `;`, `{` and `}` (the separators themselves dropped)."""
    result, current = [], []
    for t in tokens:
        if t.text in (";", "{", "}") and t.kind == "punct":
            if current:
                result.append(current)
            current = []
        else:
            current.append(t)
    if current:
        result.append(current)
    return result
