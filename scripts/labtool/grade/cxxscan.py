"""Reading `clang++ -E -dD` output like the compiler: which file every line comes from (line
markers and their include-stack flags), the directives kept by -dD, and the tokens of the
student's files (identifiers, pp-numbers with digit separators, literals with prefixes, raw
strings). cxxrules.py applies the rules to what this module finds."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

HEADER_SUFFIXES = (".hpp", ".h", ".hh", ".hxx")

_TOKEN = re.compile(r"""
    (?P<ws>[ \t\r\f\v]+)
  | (?P<nl>\n)
  | (?P<raw>(?:u8|u|U|L)?R"(?P<delim>[^ ()\\\t\v\f\n]{0,16})\()
  | (?P<str>(?:u8|u|U|L)?"(?:\\.|[^"\\\n])*")
  | (?P<chr>(?:u8|u|U|L)?'(?:\\.|[^'\\\n])+')
  | (?P<num>\.?[0-9](?:'[0-9A-Za-z_]|[eEpP][+-]|[0-9A-Za-z_.])*)
  | (?P<id>[A-Za-z_$][0-9A-Za-z_$]*|(?:[^\x00-\x7f])+)
  | (?P<punct>%:%:|\.\.\.|<=>|->\*|<<=|>>=|::|->|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^!=<>]=
              |\#\#|<:|:>|<%|%>|%:|\.\*|[][{}()\#;:,.?~!+\-*/%^&|=<>\\@`])
  | (?P<other>.)
""", re.X | re.S)
_MARKER = re.compile(r'^#[ \t]+(\d+)[ \t]+"((?:\\.|[^"\\])*)"((?:[ \t]+\d)*)[ \t]*$', re.M)
_DIRECTIVE = re.compile(r"[ \t]*#[ \t]*(define|undef|pragma)\b[ \t]*(.*)$")
@dataclass
class Token:
    kind: str          # id, num, str, chr, raw, punct, other
    text: str
    file: str
    line: int


@dataclass
class Finding:
    file: str          # absolute path of the student file
    line: int
    construct: str
    why: str
    tamper: bool = True

    def text(self, shown_as: str) -> str:
        return f"{shown_as}:{self.line}: '{self.construct}': {self.why}"


@dataclass
class Scan:
    """What one translation unit showed."""
    findings: list[Finding] = field(default_factory=list)
    tokens: dict[str, list[Token]] = field(default_factory=dict)     # student file -> tokens
    includes: list[tuple[str, int, str]] = field(default_factory=list)  # (from, line, target)


def _unescape(name: str) -> str:
    return re.sub(r"\\(.)", r"\1", name)


class Policy:
    def __init__(self, overlay: Path, own_files: set[str], allowed_extra: set[str]) -> None:
        self.overlay = os.path.realpath(overlay)
        self.own = {os.path.realpath(f) for f in own_files}
        self.extra = {os.path.realpath(f) for f in allowed_extra}

        self._student: dict[str, bool] = {}

    def is_student(self, path: str) -> bool:
        known = self._student.get(path)
        if known is None:
            known = self._student[path] = os.path.realpath(path) in self.own
        return known

    def include_problem(self, target: str, system: bool) -> str:
        real = os.path.realpath(target)
        if "doctest" in real.lower():
            return "includes the test framework"
        if real in self.own:
            if not real.endswith(HEADER_SUFFIXES):
                return "includes a file that is not a header (only your .hpp/.h files)"
            return ""
        if real in self.extra:
            return ""
        if real.startswith(self.overlay + os.sep):
            return "includes a file of the course that is not one of your files"
        if system:
            return ""
        return ("includes a file outside your submission (only your own headers and the "
                "standard/system headers)")


def walk(preprocessed: str, policy: Policy) -> Scan:
    """Follows the line markers of `clang++ -E -dD` output: include findings (from the
    include stack), directive findings (#define/#undef/#pragma of student files), and the
    tokens of every student file."""
    result = Scan()
    stack: list[str] = []          # include stack of file names (as in the markers)
    current, line = "", 1
    pos, n = 0, len(preprocessed)
    while pos < n:
        if current and policy.is_student(current):
            pos, current, line = _student_region(preprocessed, pos, current, line, stack,
                                                 policy, result)
            continue
        m = _MARKER.search(preprocessed, pos)
        if not m:
            break
        pos = _after_marker(preprocessed, m)
        current, line = _marker(m, stack, current, policy, result)
    return result


def _after_marker(text: str, m: re.Match) -> int:
    """Where the line after a line marker starts: the marker's own newline is not a line of
    the file it names (the marker says which line comes NEXT)."""
    end = m.end()
    return end + 1 if text.startswith("\n", end) else end


def _marker(m: re.Match, stack: list[str], current: str, policy: Policy,
            result: Scan) -> tuple[str, int]:
    number, name, flags = int(m.group(1)), _unescape(m.group(2)), m.group(3).split()
    if "1" in flags:
        parent = stack[-1] if stack else ""
        if parent and policy.is_student(parent):
            problem = policy.include_problem(name, "3" in flags)
            result.includes.append((parent, -1, name))
            if problem:
                result.findings.append(Finding(os.path.realpath(parent), -1,
                                               f"#include {Path(name).name}", problem))
        stack.append(name)
    elif "2" in flags:
        if stack:
            stack.pop()
        if not stack or stack[-1] != name:
            # Returned to a file other than the includer: only a forged marker does that.
            if stack and policy.is_student(stack[-1]):
                result.findings.append(Finding(os.path.realpath(stack[-1]), number,
                                               "# line marker", "a line marker would disguise "
                                               "where code comes from"))
            if stack:
                stack[-1] = name
            else:
                stack.append(name)
    else:
        if stack and stack[-1] != name:
            if policy.is_student(stack[-1]):
                result.findings.append(Finding(os.path.realpath(stack[-1]), number, "#line",
                                               "#line would disguise where code comes from"))
            stack[-1] = name
        elif not stack:
            stack.append(name)
    return (stack[-1] if stack else name), number


def _student_region(text: str, pos: int, current: str, line: int, stack: list[str],
                    policy: Policy, result: Scan) -> tuple[int, str, int]:
    """Tokenizes from pos while the current file is a student file; returns at the next line
    marker that leaves it (or the end)."""
    real = os.path.realpath(current)
    tokens = result.tokens.setdefault(real, [])
    at_line_start = pos == 0 or text[pos - 1] == "\n"
    n = len(text)
    while pos < n:
        if at_line_start:
            m = _MARKER.match(text, pos)
            if m:
                pos = _after_marker(text, m)
                name, line = _marker(m, stack, current, policy, result)
                if name != current:
                    return pos, name, line
                continue
            eol = text.find("\n", pos)
            eol = n if eol < 0 else eol
            d = _DIRECTIVE.match(text, pos, eol)
            if d:
                _directive(d.group(1), d.group(2), real, line, result)
                pos = eol
                continue
        m = _TOKEN.match(text, pos)
        if m is None:        # cannot happen: 'other' matches any character
            pos += 1
            continue
        kind = m.lastgroup
        if kind == "raw":
            close = text.find(")" + m.group("delim") + '"', m.end())
            end = n if close < 0 else close + len(m.group("delim")) + 2
            tokens.append(Token("str", text[pos:end], real, line))
            line += text.count("\n", pos, end)
            pos = end
            at_line_start = False
            continue
        pos = m.end()
        if kind == "nl":
            line += 1
            at_line_start = True
            continue
        if kind == "ws":
            continue
        at_line_start = False
        tokens.append(Token(kind, m.group(0), real, line))
    return pos, current, line


def _directive(kind: str, rest: str, path: str, line: int, result: Scan) -> None:
    if kind == "undef":
        result.findings.append(Finding(path, line, f"#undef {rest.strip()}",
                                       "can unmake the test framework's macros"))
    elif kind == "pragma":
        result.findings.append(Finding(path, line, f"#pragma {rest.strip()}"[:60],
                                       "a pragma (also from _Pragma) can switch off the "
                                       "sanitizer or warnings; only '#pragma once' is allowed"))
    else:
        m = re.match(r"(\w+)(\()?(.*)$", rest)
        if not m:
            return
        name, function_like, body = m.group(1), m.group(2), (m.group(3) or "").strip()
        if name.startswith(("DOCTEST", "LAB_")) or name in _DOCTEST_SHORT:
            result.findings.append(Finding(path, line, f"#define {name}",
                                           "redefines a test-framework macro"))
        elif function_like or (body and not re.fullmatch(r"[0-9][0-9'xXa-fA-FuUlL.]*", body)):
            result.findings.append(Finding(
                path, line, f"#define {name}",
                "a macro with a body can rewrite the checkpoint code that includes your file; "
                "use constexpr or an inline function (only include guards and numeric "
                "constants are allowed)"))


_DOCTEST_SHORT = set("""CHECK CHECK_FALSE CHECK_EQ CHECK_NE CHECK_GT CHECK_LT CHECK_GE CHECK_LE
CHECK_UNARY CHECK_UNARY_FALSE CHECK_THROWS CHECK_THROWS_AS CHECK_THROWS_WITH CHECK_NOTHROW
CHECK_MESSAGE REQUIRE REQUIRE_FALSE REQUIRE_EQ REQUIRE_NE REQUIRE_GT REQUIRE_LT REQUIRE_GE
REQUIRE_LE REQUIRE_UNARY REQUIRE_THROWS REQUIRE_THROWS_AS REQUIRE_THROWS_WITH REQUIRE_NOTHROW
REQUIRE_MESSAGE WARN WARN_FALSE WARN_MESSAGE TEST_CASE TEST_CASE_FIXTURE TEST_SUITE SUBCASE
SCENARIO GIVEN WHEN THEN AND_WHEN AND_THEN FAIL FAIL_CHECK MESSAGE INFO CAPTURE
REGISTER_REPORTER REGISTER_LISTENER""".split())
