"""Grading rules on what the compiler sees: clang's preprocessed token stream of every
translation unit, not the raw text of the student's files.

For each translation unit of a milestone (from the build's compile_commands.json, so with the
grader's own include paths and definitions), `clang++ -E -dD` writes the token stream after
line splicing, comments, conditional compilation and macro expansion, with line markers that
say which file every line comes from, and every #define / #undef / #pragma kept in place.
`scan()` walks that stream and:

  - follows the include stack (the markers' push/pop flags): every file a student file
    includes must be one of the student's own files in the overlay (a header) or a system
    header; anything else (a non-header, a file outside the overlay, the checkpoints'
    helpers, doctest) is a finding;
  - takes the tokens that come from student files (after macro expansion) and tokenizes them
    like the compiler (identifiers, pp-numbers with digit separators, string and character
    literals with prefixes, raw strings), so no literal can hide code from the rules;
  - applies the tamper rules (forbidden identifiers, attributes outside an allow-list in any
    spelling, `extern "C"`, strings that name the process's own files after adjacent string
    literals are joined) and the milestone's forbidden-construct regexes (on the tokens, joined
    back with single spaces only where two words would merge, literals blanked).

Raw-text checks are kept only where over-approximation is safe: a line marker or `#line`
written by the student (which would relabel code as someone else's) is refused on the raw text.
Code that runs before main() in dynamic initializers is found by the compiler itself: the
grading build adds -Wglobal-constructors (BUILD_FLAGS), and `startup_findings` takes its
warnings that point into student files (the checkpoints' own globals are not the student's).
The warning also covers namespace-scope objects with non-trivial destructors; function-local
statics stay allowed (the course's own code has them): code after main() cannot turn a failed
run into a pass, because main()'s return value is already the exit status and every way to
end the process otherwise is a forbidden token.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from .cxxscan import Finding, Policy, Scan, Token, walk

# The flag the grading build adds: the compiler reports code that would run before main()
# (dynamic initialization of namespace-scope, inline or static member variables) and objects
# of static storage with destructors. doctest silences it for its own registrations.
BUILD_FLAGS = "-Wglobal-constructors"
_STARTUP = re.compile(r"^(.*?):(\d+):\d+: (?:warning|error): (declaration requires a global "
                      r"(?:constructor|destructor))", re.M)
# Identifiers student code never needs; each is a way to end, fork or rewire the test process,
# or to reach the test harness or the sanitizer.
_IDENTS: list[tuple[str, str]] = [
    ("exit _exit _Exit quick_exit at_quick_exit atexit abort terminate set_terminate "
     "unexpected set_unexpected",
     "ends the process or changes how it ends: a test must finish by returning"),
    ("fork vfork clone clone3 setsid setpgid daemon system popen posix_spawn posix_spawnp "
     "execl execlp execle execv execvp execvpe execve fexecve syscall pthread_exit "
     "pthread_kill pthread_cancel pthread_atfork",
     "starts or ends processes or threads behind the test's back"),
    ("signal sigaction sigprocmask pthread_sigmask raise kill killpg tgkill alarm setitimer "
     "timer_create sigaltstack",
     "handles or sends signals (a crash must stay a crash)"),
    ("setjmp longjmp sigsetjmp siglongjmp _setjmp _longjmp __builtin_setjmp "
     "__builtin_longjmp",
     "jumps out of the test with setjmp/longjmp"),
    ("getenv secure_getenv setenv putenv unsetenv clearenv environ __environ "
     "program_invocation_name program_invocation_short_name __progname __progname_full "
     "getauxval dlopen dlsym dlvsym dladdr ptrace prctl mprotect mmap freopen dup dup2 dup3 "
     "fdopen __libc_start_main __cxa_atexit __cxa_thread_atexit",
     "reads the process environment or rewires the process (environ, dlsym, dup2, ...)"),
    ("asm __asm __asm__", "inline assembly"),
    ("__declspec", "vendor declaration attributes"),
    ("main", "defines or calls main(): the checkpoints have the only main"),
    ("doctest", "mentions the test framework (doctest); your code must not touch the harness"),
]
FORBIDDEN_IDENTIFIERS = {name: why for names, why in _IDENTS for name in names.split()}
_PREFIXES = re.compile(r"^(?:DOCTEST_\w*|__(?:tsan|asan|lsan|msan|ubsan|sanitizer)\w*|"
                       r"Annotate[A-Z]\w*|__builtin_(?:trap|frame_address|return_address)|"
                       r"no_sanitize\w*|disable_sanitizer_instrumentation)$")
# Attributes a solution may use; every other one (constructor, destructor, section, weak,
# alias, ifunc, init_priority, visibility, used, no_sanitize, cleanup, ...) is refused in
# every spelling: [[gnu::x]], [[using gnu: x]], __attribute__((x)), __attribute__((__x__)).
ALLOWED_ATTRIBUTES = {
    "nodiscard", "maybe_unused", "likely", "unlikely", "noreturn", "fallthrough", "deprecated",
    "no_unique_address", "carries_dependency", "assume",
    "gnu::noinline", "gnu::always_inline", "gnu::cold", "gnu::hot", "gnu::unused",
    "gnu::aligned", "gnu::pure", "gnu::const", "gnu::flatten",
    "clang::noinline", "clang::always_inline", "clang::lifetimebound",
}
# Strings (after adjacent literals are joined) that name the process's own files.
_BAD_STRING = re.compile(r"/proc|/dev/fd|/dev/std|/self/|cmdline|/sys/", re.I)

# In the student's raw text: a line that starts a #line directive or a GNU line marker, also
# with comments or line splices between '#' and the number (over-approximated on purpose).
_RAW_LINE_DIRECTIVE = re.compile(r"^[ \t]*(?:#|%:)(?:[ \t]|/\*.*?\*/)*(?:line\b|[0-9])", re.M)


def scan(preprocessed: str, overlay: Path, own_files: set[str],
         allowed_extra: set[str] = frozenset(), forbidden: list[dict] | None = None) -> Scan:
    """Checks one translation unit's `clang++ -E -dD` output. own_files: absolute paths of the
    student's files in the overlay (the files the rules are about); allowed_extra: course
    headers a student file may include (lab_todo.hpp); forbidden: the milestone's
    {"regex", "why"} rules, applied to each student file's tokens."""
    result = walk(preprocessed, Policy(overlay, own_files, set(allowed_extra)))
    for path, tokens in result.tokens.items():
        _token_rules(path, tokens, result.findings)
        if forbidden:
            _forbidden_rules(path, tokens, forbidden, result.findings)
    result.findings = _unique(result.findings)
    return result


def _token_rules(path: str, tokens: list[Token], findings: list[Finding]) -> None:
    i, count = 0, len(tokens)
    while i < count:
        tok = tokens[i]
        if tok.kind == "id":
            why = FORBIDDEN_IDENTIFIERS.get(tok.text)
            if why is None and _PREFIXES.match(tok.text):
                why = ("talks to the test framework or the sanitizer"
                       if not tok.text.startswith("DOCTEST") else
                       "mentions the test framework (doctest)")
            if why:
                findings.append(Finding(path, tok.line, tok.text, why))
            elif tok.text == "lab" and (i + 1 < count and tokens[i + 1].text == "::" or
                                        i > 0 and tokens[i - 1].text == "namespace") and not (
                    # LAB_TODO(...) expands to ::lab::todo(...): a TODO left in place is fine.
                    i + 2 < count and tokens[i + 1].text == "::" and tokens[i + 2].text == "todo"
                    and (i + 3 >= count or tokens[i + 3].text == "(")):
                findings.append(Finding(path, tok.line, "lab::",
                                        "uses the checkpoints' helper namespace lab::"))
            elif tok.text == "extern" and i + 1 < count and tokens[i + 1].kind == "str":
                findings.append(Finding(path, tok.line, f"extern {tokens[i + 1].text}",
                                        "declares C symbols (extern \"C\"), e.g. to reach libc "
                                        "or the sanitizer under another name"))
            elif tok.text in ("__attribute__", "__attribute"):
                end = _balanced(tokens, i + 1)
                for name, line in _gnu_attribute_names(tokens[i + 1:end]):
                    _attribute(path, line, name, findings, gnu_spelling=True)
                i = end
                continue
        elif tok.text == "[" and i + 1 < count and tokens[i + 1].text == "[":
            end = _attribute_end(tokens, i + 2)
            for name, line in _std_attribute_names(tokens[i + 2:end]):
                _attribute(path, line, name, findings, gnu_spelling=False)
            i = end
            continue
        elif tok.kind == "str":
            j, joined = i, ""
            while j < count and tokens[j].kind == "str":
                joined += _literal_body(tokens[j].text)
                j += 1
            if _BAD_STRING.search(joined):
                findings.append(Finding(path, tok.line, joined[:60],
                                        "names the process's own files (/proc, /dev/fd): the "
                                        "test's arguments and files are off limits"))
            i = j
            continue
        i += 1


def _literal_body(text: str) -> str:
    m = re.match(r'(?:u8|u|U|L)?R"([^(]*)\((.*)\)\1"$', text, re.S)
    if m:
        return m.group(2)
    m = re.match(r'(?:u8|u|U|L)?"(.*)"$', text, re.S)
    body = m.group(1) if m else text
    return re.sub(r"\\(.)", r"\1", body)


def _balanced(tokens: list[Token], i: int) -> int:
    """Index after the parenthesized group starting at tokens[i] (or i if none)."""
    if i >= len(tokens) or tokens[i].text != "(":
        return i
    depth = 0
    for j in range(i, len(tokens)):
        if tokens[j].text == "(":
            depth += 1
        elif tokens[j].text == ")":
            depth -= 1
            if depth == 0:
                return j + 1
    return len(tokens)


def _attribute_end(tokens: list[Token], i: int) -> int:
    depth = 0
    for j in range(i, len(tokens) - 1):
        t = tokens[j].text
        if t in ("(", "[", "{"):
            depth += 1
        elif t in (")", "}") or (t == "]" and depth > 0):
            depth -= 1
        elif t == "]" and depth == 0 and tokens[j + 1].text == "]":
            return j + 2
    return len(tokens)


def _norm(name: str) -> str:
    if name.startswith("__") and name.endswith("__") and len(name) > 4:
        return name[2:-2]
    return name


def _gnu_attribute_names(group: list[Token]) -> list[tuple[str, int]]:
    """Names in __attribute__(( a, b(x), c )): the first identifier of each item at depth 2."""
    names, depth, expect = [], 0, False
    for t in group:
        if t.text == "(":
            depth += 1
            expect = depth == 2
            continue
        if t.text == ")":
            depth -= 1
            continue
        if depth == 2 and t.text == ",":
            expect = True
            continue
        if expect and depth == 2:
            names.append(("gnu::" + _norm(t.text), t.line))
            expect = False
    return names


def _std_attribute_names(group: list[Token]) -> list[tuple[str, int]]:
    """Names in [[ ... ]] (without the brackets), with `using ns:` and `ns::name` resolved."""
    names, i, prefix = [], 0, ""
    if len(group) >= 3 and group[0].text == "using":
        prefix = _norm(group[1].text) + "::"
        i = 3
    depth, expect = 0, True
    while i < len(group):
        t = group[i]
        if t.text in ("(", "[", "{"):
            depth += 1
        elif t.text in (")", "]", "}"):
            depth -= 1
        elif depth == 0 and t.text == ",":
            expect = True
        elif depth == 0 and expect and t.kind == "id":
            name = _norm(t.text)
            if i + 2 < len(group) and group[i + 1].text == "::":
                name = _norm(t.text) + "::" + _norm(group[i + 2].text)
                i += 2
            names.append((prefix + name if "::" not in name else name, t.line))
            expect = False
        elif depth == 0 and expect:
            names.append((t.text, t.line))
            expect = False
        i += 1
    return names


def _attribute(path: str, line: int, name: str, findings: list[Finding],
               gnu_spelling: bool) -> None:
    if name in ALLOWED_ATTRIBUTES or (gnu_spelling and name.split("::")[-1] in
                                      ALLOWED_ATTRIBUTES):
        return
    findings.append(Finding(path, line, f"attribute {name}",
                            "only standard attributes and a few gnu:: hints (noinline, cold, "
                            "...) are allowed: constructor/destructor/section/weak/alias and "
                            "the like run code before main() or replace symbols"))


def _forbidden_rules(path: str, tokens: list[Token], rules: list[dict],
                     findings: list[Finding]) -> None:
    """The manifest's regexes on the file's tokens joined back into text (one line per source
    line, literals blanked), so spacing, splices and comments change nothing."""
    lines: dict[int, list[str]] = {}
    for t in tokens:
        text = '""' if t.kind in ("str", "chr") else t.text
        cur = lines.setdefault(t.line, [])
        if cur and _word(cur[-1][-1:]) and _word(text[:1]):
            cur.append(" ")
        cur.append(text)
    for line, parts in sorted(lines.items()):
        code = "".join(parts)
        for rule in rules:
            for m in re.finditer(rule["regex"], code):
                findings.append(Finding(path, line, m.group(0), rule["why"], tamper=False))
    # A construct split over lines (std::\nmutex) is still one construct: check the whole file.
    whole = "".join("".join(p) + (" " if p and _word(p[-1][-1:]) else "")
                    for _, p in sorted(lines.items()))
    seen = {(f.construct, f.why) for f in findings if f.file == path}
    for rule in rules:
        for m in re.finditer(rule["regex"], whole):
            if (m.group(0), rule["why"]) not in seen:
                findings.append(Finding(path, 0, m.group(0), rule["why"], tamper=False))
                seen.add((m.group(0), rule["why"]))


def _word(ch: str) -> bool:
    return bool(ch) and (ch.isalnum() or ch in "_$\"'" or ord(ch) > 127)


def _unique(findings: list[Finding]) -> list[Finding]:
    seen, result = set(), []
    for f in findings:
        key = (f.file, f.line, f.construct, f.why)
        if key not in seen:
            seen.add(key)
            result.append(f)
    return result


# --- raw-text and build-output checks ----------------------------------------------------

def raw_findings(path: str, data: bytes) -> list[Finding]:
    """Checks that need the raw text: a #line directive or a GNU line marker (which would make
    the preprocessed stream say that student code comes from another file). Over-approximated
    on purpose: such a line anywhere, even in a comment, is refused."""
    text = data.decode("utf-8", errors="replace").replace("\\\r\n", "").replace("\\\n", "")
    return [Finding(path, text.count("\n", 0, m.start()) + 1, "#line",
                    "a #line directive or line marker would disguise where code comes from")
            for m in _RAW_LINE_DIRECTIVE.finditer(text)]


def startup_findings(build_output: str, own_files: dict[str, str]) -> list[str]:
    """The build's -Wglobal-constructors diagnostics in student files, as 'file:line: ...'
    lines (own_files: absolute overlay path -> the path shown to the student)."""
    own = {os.path.realpath(k): v for k, v in own_files.items()}
    found = []
    for m in _STARTUP.finditer(build_output):
        shown = own.get(os.path.realpath(m.group(1)))
        if shown:
            found.append(f"{shown}:{m.group(2)}: 'static initializer': {m.group(3)}: code "
                         "that runs before main() could fake a result; initialize with "
                         "constant expressions (a function-local static is fine)")
    return list(dict.fromkeys(found))


# --- translation units ---------------------------------------------------------------------

@dataclass
class Unit:
    source: str
    directory: str
    argv: list[str]          # the compiler command without -o/-c/-MD..., launcher removed


def units(compile_commands: list[dict], label: str) -> list[Unit]:
    """The translation units of milestone `label` (m1, ...): its checkpoint executables and
    its track library, from compile_commands.json."""
    wanted = re.compile(rf"CMakeFiles/(?:{label}_checkpoints|{label}_plain|lab_track_{label})"
                        r"\.dir/")
    result = []
    for entry in compile_commands:
        argv = entry.get("arguments") or shlex.split(entry.get("command", ""))
        out = entry.get("output") or (argv[argv.index("-o") + 1] if "-o" in argv else "")
        if not wanted.search(out):
            continue
        result.append(Unit(entry["file"], entry["directory"], preprocess_argv(argv)))
    return result


def preprocess_argv(argv: list[str]) -> list[str]:
    """A compile command turned into `-E -dD` to stdout: no launcher (ccache), no output or
    dependency files."""
    args = list(argv)
    while args and os.path.basename(args[0]) in ("ccache", "sccache", "distcc"):
        args.pop(0)
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
            continue
        if a in ("-o", "-MF", "-MT", "-MQ"):
            skip = True
            continue
        if a in ("-c", "-MD", "-MMD", "-Winvalid-pch") or a.startswith(("-o", "-MF")) and \
                len(a) > 3 and a[:3] in ("-o/", "-MF"):
            continue
        out.append(a)
    return out + ["-E", "-dD", "-Wno-everything"]
