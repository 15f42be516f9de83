"""The first line of a failed checkpoint's feedback: the property it checks, in words (its
name), and the mistake it exists to catch (its `// Catches:` comment, course.catches_texts())."""

from __future__ import annotations

import re

MAX_MISTAKE = 240      # characters of the mistake shown on the first line

# A sentence ends at ". " before a capital letter (or a quote, backtick or parenthesis that
# opens one); "e.g. the" and "i.e. a" do not end one.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"`(])")


def likely_mistake(catches: str) -> str:
    """The first sentence of a `// Catches:` paragraph, cut to MAX_MISTAKE characters."""
    text = " ".join(catches.split())
    first = _SENTENCE_END.split(text, maxsplit=1)[0] if text else ""
    if len(first) > MAX_MISTAKE:
        first = first[:MAX_MISTAKE - 3].rstrip() + "..."
    return first


def headline(property_name: str, catches: str) -> str:
    """'Checks: <property>. Likely mistake: <first sentence of Catches>' in one line."""
    mistake = likely_mistake(catches)
    line = f"Checks: {property_name}."
    if mistake:
        line += f" Likely mistake: {mistake}"
        if not line.endswith((".", "?", "!", "...")):
            line += "."
    return line
