"""doctest's console report of failed assertions, with a unified diff in place of two long
texts when a CHECK compared them."""

from __future__ import annotations

import difflib
import re

from .paths import Paths, tidy


# --- doctest failures and text diffs ------------------------------------------------------

ASSERTION = re.compile(r"^(?P<where>\S+:\d+): (?P<level>ERROR|FATAL ERROR|WARNING): "
                        r"(?P<what>.*)$")
_VALUES = re.compile(r"^\s*values: (?:(?P<macro>[A-Z_]+)\( )?")


def _split_comparison(body: str) -> tuple[str, str] | None:
    """Splits doctest's "LEFT == RIGHT" (either side may span lines) at the one " == " that
    can be the operator (texts end with a newline, so one that starts a line is preferred);
    None when that is ambiguous."""
    candidates = [m.start() for m in re.finditer(" == ", body)]
    if len(candidates) > 1:
        candidates = [c for c in candidates if c > 0 and body[c - 1] == "\n"]
    if len(candidates) != 1:
        return None
    at = candidates[0]
    return body[:at], body[at + 4:]


def _diff(yours: str, expected: str, yours_name: str, expected_name: str,
          context: int = 2) -> str:
    lines = difflib.unified_diff(expected.splitlines(), yours.splitlines(),
                                 fromfile=expected_name, tofile=yours_name, lineterm="",
                                 n=context)
    return "\n".join(lines)


def text_diff(values: str, expression: str = "", context: int = 2) -> str:
    """A unified diff (expected to yours) of a failed `CHECK(a == b)` whose sides are texts
    of two or more lines, from doctest's "values:" output (console: `values: CHECK( a == b )`,
    XML: `a == b`). `expression` is the assertion's source, used to name the sides: the side
    whose expression says "expected" is the expected one, else the right-hand side. Returns
    "" when it is not such a comparison."""
    body = _VALUES.sub("", values, count=1) if _VALUES.match(values) else values
    if _VALUES.match(values) and re.match(r"^\s*values: [A-Z_]+\( ", values):
        body = re.sub(r"\s?\)\s*$", "", body)
    split = _split_comparison(body)
    if split is None:
        return ""
    left, right = split
    if left.count("\n") + right.count("\n") < 2 or left == right:
        return ""
    left_expr, right_expr = "left", "right"
    m = re.match(r"^\s*(?:[A-Z_]+\(\s*)?(.*?)\s+==\s+(.*?)\s*\)?\s*$", expression)
    if m:
        left_expr, right_expr = m.group(1).strip(), m.group(2).strip()
    yours, expected, yours_expr, expected_expr = left, right, left_expr, right_expr
    if "expected" in left_expr and "expected" not in right_expr:
        yours, expected, yours_expr, expected_expr = right, left, right_expr, left_expr
    expected_name = "expected" + ("" if expected_expr == "expected" else f": {expected_expr}")
    return _diff(yours, expected, f"yours: {yours_expr}", expected_name, context)


_LOG_LIMIT = 40   # lines of a logged (CAPTURE/INFO) value to keep


def doctest_failure(output: str, paths: Paths) -> str:
    """Every failed assertion of a doctest console report, each with its values: a unified
    diff instead of two long texts, long logged values cut. Returns "" when there is none."""
    lines = output.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = ASSERTION.match(lines[i])
        if not m:
            if re.search(r"TODO:|threw exception|terminate called|^skipped: |^inconclusive: ",
                         lines[i]) and not out:
                out.append(tidy(lines[i].strip(), paths))
            i += 1
            continue
        out.append(tidy(lines[i], paths))
        expression = re.sub(r"\s+is NOT correct!$", "", m.group("what"))
        block = _block(lines[i + 1:])
        i += 1 + len(block)
        out.extend(_assertion_details(block, expression, paths))
    return "\n".join(out).rstrip()


def _block(after: list[str]) -> list[str]:
    """The lines below one failed assertion that belong to it (up to the next assertion, the
    next test case's rule, or doctest's summary)."""
    block: list[str] = []
    for line in after:
        if ASSERTION.match(line) or line.startswith(("=====", "[doctest]")):
            break
        block.append(line)
    return block


def _split(block: list[str]) -> tuple[str, str]:
    """A failed assertion's block as (values, logged): its "values:" lines and its "logged:"
    lines (INFO, CAPTURE and CHECK_MESSAGE text)."""
    text = "\n".join(block).rstrip("\n")
    at = text.find("\n  logged: ")
    if text.lstrip().startswith("logged: "):
        return "", text
    if at >= 0:
        return text[:at], text[at + 1:]
    return text, ""


def logged_message(after: list[str]) -> str:
    """What doctest logged with the failed assertion whose following lines are `after`, as one
    line ("; " between its lines); "" when it logged nothing."""
    _, logged = _split(_block(after))
    parts = [l.strip() for l in logged.splitlines() if l.strip()]
    if parts:
        parts[0] = parts[0][len("logged: "):].strip()
    return "; ".join(parts)


def _assertion_details(block: list[str], expression: str, paths: Paths) -> list[str]:
    """The values and logged lines below one failed assertion."""
    values, logged = _split(block)
    out = []
    if values.strip():
        diff = text_diff(values, expression)
        if diff:
            out.append("  the two texts differ (- expected, + what your code produced):")
            out.extend("    " + l for l in diff.splitlines())
        else:
            out.extend(_cut(values.splitlines(), _LOG_LIMIT))
    if logged.strip():
        out.extend(_cut(logged.splitlines(), _LOG_LIMIT))
    return [tidy(l, paths) for l in out]


def _cut(lines: list[str], limit: int) -> list[str]:
    lines = [l for l in lines if l.strip()]
    if len(lines) <= limit:
        return lines
    return lines[:limit] + [f"  ... ({len(lines) - limit} more lines)"]
