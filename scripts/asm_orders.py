#!/usr/bin/env python3
"""asm_orders.py: what each atomic operation and memory order compiles to, on five targets.

    scripts/asm_orders.py                  # prints a markdown table
    scripts/asm_orders.py --out FILE.md    # writes it (the m6 lesson embeds this table)

For every operation (load, store, fetch_add, exchange, compare-exchange weak and strong, fence)
and every order it accepts, it compiles a one-line function with `clang++ -O2 -S` for
  x86-64                    (--target=x86_64-linux-gnu)
  AArch64, ARMv8.0          (--target=aarch64-linux-gnu: load-linked/store-conditional loops)
  AArch64, ARMv8.1 + LSE    (--target=aarch64-linux-gnu -march=armv8.1-a: single atomic
                             instructions; what current Arm servers and Apple cores run)
  POWER, 64-bit little-endian (--target=powerpc64le-linux-gnu)
  RISC-V RV64GC             (--target=riscv64-linux-gnu -march=rv64gc: the A extension)
and puts the function bodies side by side. Address set-up (adrp/add :lo12:, the TOC on POWER,
auipc/%pcrel on RISC-V) and the return are left out; labels are kept so that LL/SC retry loops
stay readable.

The functions use the __atomic builtins because this machine has no C++ standard library
headers for the other targets. They are exactly what std::atomic compiles to: libstdc++'s member functions
are one-line wrappers over them (see /usr/include/c++/12/bits/atomic_base.h), and --check
compiles the same operations through std::atomic for x86-64 and verifies the instructions match.
Standard library only.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ORDERS = {"relaxed": "__ATOMIC_RELAXED", "consume": "__ATOMIC_CONSUME",
          "acquire": "__ATOMIC_ACQUIRE", "release": "__ATOMIC_RELEASE",
          "acq_rel": "__ATOMIC_ACQ_REL", "seq_cst": "__ATOMIC_SEQ_CST"}

# (operation, order, builtin body, std::atomic body, signature)
def _cases():
    cases = []
    for o in ("relaxed", "acquire", "seq_cst"):
        cases.append(("load", o, f"return __atomic_load_n(&v, {ORDERS[o]});",
                      f"return a.load(std::memory_order_{o});", "unsigned long f(void)"))
    for o in ("relaxed", "release", "seq_cst"):
        cases.append(("store", o, f"__atomic_store_n(&v, x, {ORDERS[o]});",
                      f"a.store(x, std::memory_order_{o});", "void f(unsigned long x)"))
    for o in ("relaxed", "acquire", "release", "acq_rel", "seq_cst"):
        cases.append(("fetch_add", o, f"return __atomic_fetch_add(&v, 1, {ORDERS[o]});",
                      f"return a.fetch_add(1, std::memory_order_{o});", "unsigned long f(void)"))
    for o in ("relaxed", "seq_cst"):
        cases.append(("exchange", o, f"return __atomic_exchange_n(&v, x, {ORDERS[o]});",
                      f"return a.exchange(x, std::memory_order_{o});",
                      "unsigned long f(unsigned long x)"))
    for weak in (True, False):
        name = "compare_exchange_weak" if weak else "compare_exchange_strong"
        for o, fail in (("relaxed", "relaxed"), ("seq_cst", "seq_cst")):
            cases.append((name, o,
                          f"return __atomic_compare_exchange_n(&v, e, d, {str(weak).lower()}, "
                          f"{ORDERS[o]}, {ORDERS[fail]});",
                          f"return a.{name}(*e, d, std::memory_order_{o}, "
                          f"std::memory_order_{fail});",
                          "bool f(unsigned long* e, unsigned long d)"))
    for o in ("acquire", "release", "acq_rel", "seq_cst"):
        cases.append(("atomic_thread_fence", o, f"__atomic_thread_fence({ORDERS[o]});",
                      f"std::atomic_thread_fence(std::memory_order_{o});", "void f(void)"))
    return cases


CASES = _cases()
TARGETS = [
    ("x86-64", ["--target=x86_64-linux-gnu"]),
    ("AArch64 ARMv8.0 (LL/SC)", ["--target=aarch64-linux-gnu"]),
    ("AArch64 ARMv8.1 (LSE)", ["--target=aarch64-linux-gnu", "-march=armv8.1-a"]),
    ("POWER (ppc64le)", ["--target=powerpc64le-linux-gnu"]),
    ("RISC-V (RV64GC)", ["--target=riscv64-linux-gnu", "-march=rv64gc"]),
]

# Lines that only compute the variable's address or set up the function, per target.
_ADDRESSING = re.compile(
    r"^(adrp\b.*|add\s+x\d+, x\d+, :lo12:.*"            # AArch64
    r"|addis? \d+, (2|12), \.TOC\..*|addis \d+, 2, v@toc@ha|addi \d+, \d+, v@toc@l"  # POWER
    r"|auipc \w+, %pcrel_hi\(v\)|addi \w+, \w+, %pcrel_lo\(.*\))$")  # RISC-V
_FUNCTION_LABEL = re.compile(r"^\.Lfunc_(begin|gep|lep)\d+:$")


def _fname(i: int) -> str:
    return f"case{i}"


def _source(use_std: bool) -> str:
    lines = ["#include <atomic>", "std::atomic<unsigned long> a;"] if use_std else \
        ["unsigned long v;"]
    for i, (_op, _o, builtin, std_body, sig) in enumerate(CASES):
        body = std_body if use_std else builtin
        lines.append(f'extern "C" {sig.replace(" f(", f" {_fname(i)}(")} {{ {body} }}')
    return "\n".join(lines) + "\n"


def compile_asm(clang: str, flags: list[str], source: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "orders.cpp"
        src.write_text(source)
        cmd = [clang, "-std=c++20", "-O2", "-S", "-o", "-", "-fno-asynchronous-unwind-tables",
               "-fno-exceptions", *flags, str(src)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"asm_orders: {' '.join(cmd)} failed:\n{proc.stderr}")
        return proc.stdout


def bodies(asm: str) -> dict[str, list[str]]:
    """Function name -> its instructions (labels kept, directives, comments, addressing dropped)."""
    result: dict[str, list[str]] = {}
    current = None
    for raw in asm.splitlines():
        line = re.split(r"\s(#|//)\s", raw)[0].rstrip()
        m = re.match(r"^(case\d+):", line)
        if m:
            current = m.group(1)
            result[current] = []
            continue
        if current is None:
            continue
        stripped = line.strip()
        if stripped.startswith(".Lfunc_end") or stripped.startswith(".size"):
            current = None
            continue
        if not stripped or stripped.startswith(("#", "//")):
            continue
        if _FUNCTION_LABEL.match(stripped):
            continue
        if re.match(r"^\.L\w+:$", stripped):  # a local label: keep, short
            result[current].append(stripped)
            continue
        if stripped.startswith("."):
            continue
        stripped = re.sub(r"\s+", " ", stripped)
        if _ADDRESSING.match(stripped):
            if stripped.startswith("auipc") and result[current] and \
                    result[current][-1].startswith(".L"):
                result[current].pop()  # the label only anchors the %pcrel_lo
            continue  # materializing the address of the variable
        if stripped in ("ret", "retq", "blr"):
            continue
        result[current].append(stripped)
    return result


def _cell(instructions: list[str]) -> str:
    if not instructions:
        return "(nothing)"
    return "<br>".join(f"`{i}`" for i in instructions)


def table(clang: str) -> str:
    columns = {}
    for title, flags in TARGETS:
        columns[title] = bodies(compile_asm(clang, flags, _source(use_std=False)))
    version = subprocess.run([clang, "--version"], capture_output=True, text=True).stdout \
        .splitlines()[0]
    out = [f"Generated by `scripts/asm_orders.py` with {version}, `-O2`; 64-bit operands.", "",
           "| operation | order | " + " | ".join(t for t, _ in TARGETS) + " |",
           "| --- | --- |" + " --- |" * len(TARGETS)]
    for i, (op, order, *_rest) in enumerate(CASES):
        cells = [_cell(columns[t].get(_fname(i), [])) for t, _ in TARGETS]
        out.append(f"| `{op}` | {order} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def check(clang: str) -> int:
    """On x86-64, std::atomic and the builtins must give the same instructions."""
    flags = TARGETS[0][1]
    a = bodies(compile_asm(clang, flags, _source(use_std=False)))
    b = bodies(compile_asm(clang, flags, _source(use_std=True)))
    strip = lambda xs: [re.sub(r"\b[av]\(%rip\)", "X(%rip)", x) for x in xs]  # noqa: E731
    bad = [CASES[int(k[4:])][:2] for k in a if strip(a[k]) != strip(b.get(k, []))]
    if bad:
        print(f"std::atomic differs from the builtins for: {bad}", file=sys.stderr)
        return 1
    print(f"ok: std::atomic and the __atomic builtins compile to the same x86-64 code "
          f"({len(a)} cases)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="write the markdown table here instead of stdout")
    parser.add_argument("--clang", default="clang++", help="the clang++ to use")
    parser.add_argument("--check", action="store_true",
                        help="verify that std::atomic gives the same x86-64 code as the builtins")
    args = parser.parse_args(argv)
    if not shutil.which(args.clang):
        sys.exit(f"asm_orders: {args.clang} not found (sudo apt-get install clang)")
    if args.check:
        return check(args.clang)
    text = table(args.clang)
    if args.out:
        Path(args.out).write_text("# What each atomic operation and memory order compiles to\n\n"
                                  "Regenerate with `scripts/asm_orders.py --out " + args.out +
                                  "`.\n\n" + text)
        print(f"wrote {args.out}")
    else:
        print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
