"""The memory orders written out in a C++ file, what operation each one is an argument of, and
its one-step weakenings: the text side of `lab orders` (orders.py runs the weakenings).

    find_orders(text, given)   every explicit order token on a line the student wrote (lines
                               that occur verbatim in `given`, the starter file, are skipped)
    weakenings(site)           the orders one step weaker that are valid for its operation
    weakened(text, site, new)  the file with that one token replaced
    default_order_calls(...)   atomic member calls that name no order (seq_cst by default)

Forms recognised: std::memory_order_X, std::memory_order::X and both without `std::` (after a
using-declaration). Comments and string literals are ignored. Pure text; no compiler.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ORDERS = ("relaxed", "consume", "acquire", "release", "acq_rel", "seq_cst")

_TOKEN = re.compile(r"(?<![\w:])(?:std\s*::\s*)?memory_order(?:_(\w+)|\s*::\s*(\w+))\b")
_CALLEE = re.compile(r"([A-Za-z_]\w*)\s*(?:<[^<>()]*>)?\s*$")

# Operation kinds and the calls that are one (member and free-function forms).
LOAD, STORE, RMW, CAS, FENCE = "load", "store", "read-modify-write", "compare-exchange", "fence"
_KINDS = {
    "load": LOAD, "atomic_load_explicit": LOAD, "test": LOAD, "atomic_flag_test_explicit": LOAD,
    "wait": LOAD, "atomic_wait_explicit": LOAD,
    "store": STORE, "atomic_store_explicit": STORE, "clear": STORE,
    "atomic_flag_clear_explicit": STORE,
    "exchange": RMW, "atomic_exchange_explicit": RMW, "test_and_set": RMW,
    "atomic_flag_test_and_set_explicit": RMW,
    "compare_exchange_weak": CAS, "compare_exchange_strong": CAS,
    "atomic_compare_exchange_weak_explicit": CAS, "atomic_compare_exchange_strong_explicit": CAS,
    "atomic_thread_fence": FENCE, "atomic_signal_fence": FENCE,
}
# Where the orders stand among a call's arguments: (index of the first order, how many orders
# the call takes at most). Free functions take the atomic's address first.
_FIRST_ORDER = {
    "load": 0, "test": 0, "wait": 1, "store": 1, "clear": 0, "exchange": 1, "test_and_set": 0,
    "compare_exchange_weak": 2, "compare_exchange_strong": 2,
    "atomic_thread_fence": 0, "atomic_signal_fence": 0,
}


def _kind_of(callee: str) -> str | None:
    if callee.startswith("fetch_") or re.fullmatch(r"atomic_fetch_\w+_explicit", callee):
        return RMW
    return _KINDS.get(callee)


def _first_order_index(callee: str) -> int:
    if callee.startswith("fetch_"):
        return 1
    if callee.startswith("atomic_") and callee.endswith("_explicit"):
        if "compare_exchange" in callee:
            return 3
        return 1 if callee in ("atomic_load_explicit", "atomic_flag_test_explicit",
                               "atomic_flag_test_and_set_explicit",
                               "atomic_flag_clear_explicit") else 2
    return _FIRST_ORDER[callee]


# One step weaker, by the kind of access an order sits on (a compare-exchange's failure order
# is a load's; every candidate is a valid order for its place in C++20).
_ONE_STEP = {
    LOAD: {"seq_cst": ["acquire"], "acquire": ["relaxed"], "consume": ["relaxed"]},
    STORE: {"seq_cst": ["release"], "release": ["relaxed"]},
    RMW: {"seq_cst": ["acq_rel"], "acq_rel": ["acquire", "release"], "acquire": ["relaxed"],
          "release": ["relaxed"], "consume": ["relaxed"]},
}
_ONE_STEP[FENCE] = _ONE_STEP[RMW]
_VALID = {LOAD: {"relaxed", "consume", "acquire", "seq_cst"},
          STORE: {"relaxed", "release", "seq_cst"}, RMW: set(ORDERS), FENCE: set(ORDERS)}


@dataclass(frozen=True)
class OrderSite:
    """One order token: where it is, what it is, what it is an argument of."""
    line: int            # 1-based
    start: int           # offset of the token in the file's text
    end: int
    token: str           # as written, e.g. "std::memory_order_acquire"
    order: str           # "acquire"
    operation: str       # "load", ..., "compare-exchange", "fence"; "" when not known
    call: str            # the callee's name ("fetch_add"), "" when not an argument of a call
    role: str = ""       # compare-exchange: "success", "failure" or "" (its only order)
    why_not: str = ""    # why the site is not judged ("" when it is)

    @property
    def access(self) -> str:
        """The kind of access whose weakening table applies."""
        if self.operation == CAS:
            return LOAD if self.role == "failure" else RMW
        return self.operation

    @property
    def describe(self) -> str:
        """The operation as a report names it: "fetch_add", "compare_exchange_weak (failure
        order)"."""
        return self.call + (f" ({self.role} order)" if self.role else "")


def _blank(text: str) -> str:
    """text with comments and string and character literals replaced by spaces (newlines
    kept): offsets and line numbers stay those of the file."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
        elif c in "\"'" and not (c == "'" and i and text[i - 1].isalnum()):  # 1'000 is a digit
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(n, j + 1)
        else:
            i += 1
            continue
        for k in range(i, j):
            if out[k] != "\n":
                out[k] = " "
        i = j
    return "".join(out)


def _enclosing_call(code: str, pos: int) -> tuple[str, int, int, int] | None:
    """(callee, index of the argument that holds pos, number of arguments, start of that
    argument) of the innermost call whose parentheses hold pos; None outside any call."""
    depth, i = 0, pos - 1
    while i >= 0:
        c = code[i]
        if c in ")]}":
            depth += 1
        elif c in "([{":
            if depth == 0:
                break
            depth -= 1
        elif c == ";" and depth == 0:
            return None
        i -= 1
    if i < 0 or code[i] != "(":
        return None
    m = _CALLEE.search(code, 0, i)
    if not m:
        return None
    # The arguments: split at top-level commas up to the matching ')'.
    starts, depth, j = [i + 1], 0, i + 1
    while j < len(code):
        c = code[j]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif c == "," and depth == 0:
            starts.append(j + 1)
        j += 1
    index = sum(1 for s in starts if s <= pos) - 1
    return m.group(1), index, len(starts), starts[index]


def _site(code: str, text: str, m: re.Match) -> OrderSite:
    order = m.group(1) or m.group(2)
    line = text.count("\n", 0, m.start()) + 1
    base = dict(line=line, start=m.start(), end=m.end(), token=m.group(0), order=order)
    if order not in ORDERS:
        return OrderSite(**base, operation="", call="", why_not=f"'{order}' is not a memory order")
    call = _enclosing_call(code, m.start())
    if call is None:
        return OrderSite(**base, operation="", call="",
                         why_not="not an argument of a call (a template argument, a constant "
                                 "or a variable): only an order passed to an atomic operation "
                                 "is judged")
    callee, index, count, arg_start = call
    kind = _kind_of(callee)
    argument = code[arg_start:m.end()].strip()
    whole = argument == m.group(0) and _argument_ends(code, m.end())
    if kind is None or not whole:
        what = f"an argument of {callee}()" if kind is None else "part of an expression"
        return OrderSite(**base, operation="", call=callee,
                         why_not=f"{what}, not an atomic operation's order argument the tool "
                                 "knows: not judged")
    first = _first_order_index(callee)
    if index < first:
        return OrderSite(**base, operation="", call=callee,
                         why_not=f"not the order argument of {callee}(): not judged")
    role = ""
    if kind == CAS and count - first == 2:
        role = "success" if index == first else "failure"
    site = OrderSite(**base, operation=kind, call=callee, role=role)
    if order not in _VALID[site.access]:
        return OrderSite(**base, operation=kind, call=callee, role=role,
                         why_not=f"{order} is not a valid order for a {site.access}: not judged")
    return site


def _argument_ends(code: str, end: int) -> bool:
    """Whether nothing but spaces stands between a token and the ',' or ')' after it."""
    rest = code[end:end + 200].lstrip()
    return rest[:1] in (",", ")")


_STATEMENT_END = re.compile(r"[;{}]")


def _statements(code: str) -> set[str]:
    """The statements of blanked code, spaces collapsed (split at ';', '{' and '}')."""
    return {" ".join(part.split()) for part in _STATEMENT_END.split(code) if part.strip()}


def _statement_at(code: str, pos: int) -> str:
    before = max(code.rfind(c, 0, pos) for c in ";{}")
    after = [i for i in (code.find(c, pos) for c in ";{}") if i >= 0]
    return " ".join(code[before + 1:min(after) if after else len(code)].split())


def _given(given: str):
    """A test: is the token at this offset of blanked code part of given code, that is of a
    statement that occurs in the starter file (spaces aside)? A statement of several lines
    counts as the student's once they changed any of its lines."""
    statements = _statements(_blank(given))
    return lambda code, pos: _statement_at(code, pos) in statements


def find_orders(text: str, given: str = "") -> list[OrderSite]:
    """Every order token of `text` outside comments and strings and outside given code: a
    statement that occurs verbatim (spaces aside) in `given`, the milestone's starter file, is
    not the student's choice."""
    code = _blank(text)
    is_given = _given(given)
    return [_site(code, text, m) for m in _TOKEN.finditer(code) if not is_given(code, m.start())]


def weakenings(site: OrderSite) -> list[str]:
    """The orders one step weaker than the site's, valid where it stands; [] for a site that
    is not judged or already relaxed."""
    if site.why_not:
        return []
    return list(_ONE_STEP[site.access].get(site.order, []))


def weakened(text: str, site: OrderSite, new: str) -> str:
    """text with the site's token naming `new` instead, in the same form."""
    token = site.token
    cut = token.rfind(site.order)
    return text[:site.start] + token[:cut] + new + token[cut + len(site.order):] + \
        text[site.end:]


def unique_edit(text: str, site: OrderSite, new: str) -> dict:
    """The weakening as an {"old", "new"} edit (mutation.apply_edits' format): the site's line,
    widened by a line on each side until its text occurs once in the file."""
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
    ends = [s - 1 for s in starts[1:]] + [len(text)]
    first = last = site.line - 1
    while text.count(text[starts[first]:ends[last]]) > 1 and (first, last) != (0, len(ends) - 1):
        first, last = max(0, first - 1), min(len(ends) - 1, last + 1)
    old = text[starts[first]:ends[last]]
    return {"old": old, "new": weakened(old, _shifted(site, -starts[first]), new)}


def _shifted(site: OrderSite, by: int) -> OrderSite:
    return OrderSite(site.line, site.start + by, site.end + by, site.token, site.order,
                     site.operation, site.call, site.role, site.why_not)


# Member calls that take an order and are atomic-only names (clear, test and wait are left
# out: containers and other types have them too).
_DEFAULT_ARITY = {"load": 0, "store": 1, "exchange": 1, "compare_exchange_weak": 2,
                  "compare_exchange_strong": 2, "test_and_set": 0}
_MEMBER_CALL = re.compile(r"(?:\.|->)\s*(load|store|exchange|compare_exchange_weak|"
                          r"compare_exchange_strong|test_and_set|fetch_\w+)\s*\(")


def default_order_calls(text: str, given: str = "") -> int:
    """How many atomic member calls on lines the student wrote name no order (so use seq_cst,
    the default). Operators (++, +=, =, a plain read of an atomic) use it too and are not
    counted: the number is a lower bound."""
    code = _blank(text)
    is_given = _given(given)
    count = 0
    for m in _MEMBER_CALL.finditer(code):
        if is_given(code, m.start()):
            continue
        call = _enclosing_call(code, m.end())
        if call is None:
            continue
        callee, _, args, arg_start = call
        if args == 1 and not code[arg_start:code.find(")", arg_start) + 1].strip(" \n)"):
            args = 0
        arity = 1 if callee.startswith("fetch_") else _DEFAULT_ARITY[callee]
        count += args == arity
    return count
