"""Rules on the student's code, checked before anything of it is compiled or run.

Two kinds:
  - the manifest's forbidden constructs (locks where a milestone must be lock-free, volatile,
    ...; shared rule sets in checkpoints/common/rules.json): they zero the milestone;
  - the tamper rules: ways in which code compiled into a checkpoint executable could fake or
    hide a result (redefining the test framework's macros, ending the process, switching off
    the sanitizer, ...). None is needed to solve any milestone; docs/grading.md lists them.
Both read the code without comments; the forbidden rules also without string literals.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..course import HEADER_SUFFIXES, Milestone, is_code

_CODE_NOISE = re.compile(
    r"//[^\n]*|/\*.*?\*/|R\"(?P<d>[^(]*)\(.*?\)(?P=d)\"|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'",
    re.S)


def strip_comments_and_strings(source: str) -> str:
    """Blanks out comments and string literals, keeping line numbers."""
    def blank(match):
        return re.sub(r"[^\n]", " ", match.group(0))
    return _CODE_NOISE.sub(blank, source)


def forbidden_violations(milestone: Milestone, track_dir: Path) -> list[str]:
    """Returns 'file:line: why' for every forbidden construct in the milestone's files."""
    found = []
    for name in milestone.code_files():
        path = track_dir / milestone.slug / name
        if not path.is_file():
            continue
        code = strip_comments_and_strings(path.read_text(errors="replace"))
        for rule in milestone.forbidden:
            for match in re.finditer(rule["regex"], code):
                line = code.count("\n", 0, match.start()) + 1
                found.append(f"{milestone.slug}/{name}:{line}: '{match.group(0)}': {rule['why']}")
    return found


# --- tamper rules ----------------------------------------------------------------------------

# Short names doctest defines (doctest.h 2.4): redefining one rewrites the checkpoints' asserts.
DOCTEST_MACROS = set("""
ADD_FAIL_AT ADD_FAIL_CHECK_AT ADD_MESSAGE_AT AND_THEN AND_WHEN CAPTURE CHECK CHECK_EQ
CHECK_FALSE CHECK_FALSE_MESSAGE CHECK_GE CHECK_GT CHECK_LE CHECK_LT CHECK_MESSAGE CHECK_NE
CHECK_NOTHROW CHECK_NOTHROW_MESSAGE CHECK_THROWS CHECK_THROWS_AS CHECK_THROWS_AS_MESSAGE
CHECK_THROWS_MESSAGE CHECK_THROWS_WITH CHECK_THROWS_WITH_AS CHECK_THROWS_WITH_AS_MESSAGE
CHECK_THROWS_WITH_MESSAGE CHECK_UNARY CHECK_UNARY_FALSE FAIL FAIL_CHECK FAST_CHECK_EQ
FAST_CHECK_GE FAST_CHECK_GT FAST_CHECK_LE FAST_CHECK_LT FAST_CHECK_NE FAST_CHECK_UNARY
FAST_CHECK_UNARY_FALSE FAST_REQUIRE_EQ FAST_REQUIRE_GE FAST_REQUIRE_GT FAST_REQUIRE_LE
FAST_REQUIRE_LT FAST_REQUIRE_NE FAST_REQUIRE_UNARY FAST_REQUIRE_UNARY_FALSE FAST_WARN_EQ
FAST_WARN_GE FAST_WARN_GT FAST_WARN_LE FAST_WARN_LT FAST_WARN_NE FAST_WARN_UNARY
FAST_WARN_UNARY_FALSE GIVEN INFO MESSAGE REGISTER_EXCEPTION_TRANSLATOR REGISTER_LISTENER
REGISTER_REPORTER REQUIRE REQUIRE_EQ REQUIRE_FALSE REQUIRE_FALSE_MESSAGE REQUIRE_GE REQUIRE_GT
REQUIRE_LE REQUIRE_LT REQUIRE_MESSAGE REQUIRE_NE REQUIRE_NOTHROW REQUIRE_NOTHROW_MESSAGE
REQUIRE_THROWS REQUIRE_THROWS_AS REQUIRE_THROWS_AS_MESSAGE REQUIRE_THROWS_MESSAGE
REQUIRE_THROWS_WITH REQUIRE_THROWS_WITH_AS REQUIRE_THROWS_WITH_AS_MESSAGE
REQUIRE_THROWS_WITH_MESSAGE REQUIRE_UNARY REQUIRE_UNARY_FALSE SCENARIO SCENARIO_CLASS
SCENARIO_TEMPLATE SCENARIO_TEMPLATE_DEFINE SUBCASE TEST_CASE TEST_CASE_CLASS TEST_CASE_FIXTURE
TEST_CASE_TEMPLATE TEST_CASE_TEMPLATE_APPLY TEST_CASE_TEMPLATE_DEFINE
TEST_CASE_TEMPLATE_INSTANTIATE TEST_CASE_TEMPLATE_INVOKE TEST_SUITE TEST_SUITE_BEGIN
TEST_SUITE_END THEN TYPE_TO_STRING TYPE_TO_STRING_AS WARN WARN_EQ WARN_FALSE WARN_FALSE_MESSAGE
WARN_GE WARN_GT WARN_LE WARN_LT WARN_MESSAGE WARN_NE WARN_NOTHROW WARN_NOTHROW_MESSAGE
WARN_THROWS WARN_THROWS_AS WARN_THROWS_AS_MESSAGE WARN_THROWS_MESSAGE WARN_THROWS_WITH
WARN_THROWS_WITH_AS WARN_THROWS_WITH_AS_MESSAGE WARN_THROWS_WITH_MESSAGE WARN_UNARY
WARN_UNARY_FALSE WHEN LAB_TODO
""".split())

# (regex on code without comments and string literals, why). Every rule names a way in which
# code compiled into the checkpoint executables could fake or hide a result. None of them is
# needed to solve any milestone; docs/grading.md lists them for students too.
_ASSERT_CALL = ("TEST_CASE|TEST_CASE_\\w+|TEST_SUITE\\w*|SUBCASE|SCENARIO\\w*|REGISTER_\\w+|"
                "(?:FAST_)?(?:CHECK|REQUIRE|WARN)(?:_\\w+)?|FAIL|FAIL_CHECK|ADD_\\w+_AT")
TAMPER_RULES: list[tuple[str, str]] = [
    (r"\b(?:doctest|DOCTEST_\w*)\b",
     "mentions the test framework (doctest); your code must not touch the test harness"),
    (rf"\b(?:{_ASSERT_CALL})\s*\(",
     "uses a test-framework macro; checkpoints assert, your code does not"),
    (r"\bnamespace\s+(?:lab|doctest)\b|(?<![\w:])lab\s*::",
     "uses the checkpoints' helper namespace lab::"),
    (r"::\s*(?:exit|_Exit|quick_exit|abort)\b|\b(?:_exit|_Exit|quick_exit|at_quick_exit|atexit)\b"
     r"|\b(?:exit|abort)\s*\(|[&=,(]\s*(?:exit|abort)\b",
     "ends the process (exit/_Exit/quick_exit/abort): a test must finish by returning"),
    (r"\bpthread_(?:exit|kill|cancel)\b|\bsyscall\b|\bposix_spawnp?\b|"
     r"(?<![\w.>])(?:fork|vfork|setsid|daemon|system|popen|execl|execlp|execle|execv|execvp|"
     r"execvpe|execve)\s*\(",
     "starts or ends processes or threads behind the test's back"),
    (r"\b(?:sigaction|sigprocmask|pthread_sigmask|setitimer)\b|"
     r"(?<![\w.>])(?:signal|raise|kill|alarm)\s*\(\s*[^)\s]",
     "handles or sends signals (a crash must stay a crash)"),
    (r"\b(?:setjmp|longjmp|sigsetjmp|siglongjmp|_setjmp|_longjmp)\b",
     "jumps out of the test with setjmp/longjmp"),
    (r"\b(?:getenv|secure_getenv|setenv|putenv|unsetenv|clearenv|environ|__environ|"
     r"program_invocation_\w*|__progname\w*|getauxval|dlopen|dlsym|dlvsym|ptrace|prctl|"
     r"mprotect|freopen|dup2|dup3)\b|(?<![\w.>])dup\s*\(",
     "reads the process environment or rewires the process (environ, dlsym, dup2, ...)"),
    (r"\b(?:asm|__asm|__asm__)\b", "inline assembly"),
    (r"\b(?:__tsan|__asan|__lsan|__msan|__ubsan|__sanitizer)\w*|\bAnnotate[A-Z]\w*|"
     r"\bno_sanitize\w*|\bdisable_sanitizer_instrumentation\b|\bno_instrument_function\b",
     "talks to or switches off the sanitizer"),
    (r"\b_Pragma\b", "_Pragma (a pragma can switch off the sanitizer for a whole file)"),
    (r"__attribute__\s*\(\(\s*(?:constructor|destructor|weak|alias|ifunc|section|init_priority)"
     r"|\bgnu\s*::\s*(?:constructor|destructor|weak|alias|ifunc|section|init_priority)\b",
     "load-time hooks or symbol overrides (constructor/destructor/weak/alias attributes)"),
    (r"\bmain\s*\(", "defines or calls main()"),
    (r"##", "token pasting (## can assemble any forbidden name)"),
    (r"%:", "digraph %: (an alternative spelling of #)"),
]
_DIRECTIVE = re.compile(r"^[ \t]*#[ \t]*(\w+)(.*)$", re.M)
_RAW_PATTERNS = [
    (re.compile(r"/proc/|/dev/fd|/dev/std|\bcmdline\b"),
     "reads the process's own files (/proc, /dev/fd)"),
    (re.compile(r"\bextern\s*\"C"), "declares C symbols (extern \"C\"), e.g. to reach libc or "
     "sanitizer functions under another name"),
]


def _spliced(text: str) -> str:
    """Phase 2 of translation: a backslash-newline joins lines (so e\\<newline>xit is exit).
    Keeps the line count by putting the swallowed newlines after the joined line."""
    out, acc, pending = [], "", 0
    for line in text.split("\n"):
        if line.endswith("\\"):
            acc += line[:-1]
            pending += 1
            continue
        out.append(acc + line + "\n" * pending)
        acc, pending = "", 0
    if acc:
        out.append(acc + "\n" * (pending - 1))
    return "\n".join(out)


def _strip_comments(text: str) -> str:
    """Removes comments, keeps string literals (for #include paths and /proc strings)."""
    pattern = re.compile(r"//[^\n]*|/\*.*?\*/|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'", re.S)

    def repl(match):
        token = match.group(0)
        if token.startswith("/"):
            return re.sub(r"[^\n]", " ", token)
        return token
    return pattern.sub(repl, text)


def _macro_allowed(body: str) -> bool:
    """An empty #define (an include guard) or a plain number."""
    body = body.strip()
    return not body or bool(re.fullmatch(r"[0-9][0-9'xXa-fA-FuUlL.]*", body))


def tamper_findings(rel: str, text: str) -> list[str]:
    """'file:line: construct: why' for every tamper rule the source breaks."""
    findings = []
    source = _spliced(text)
    code = strip_comments_and_strings(source)
    with_strings = _strip_comments(source)

    def where(pos: int) -> int:
        return code.count("\n", 0, pos) + 1

    for match in _DIRECTIVE.finditer(code):
        directive, rest = match.group(1), match.group(2)
        line = where(match.start())
        raw_line = with_strings.splitlines()[line - 1] if line - 1 < len(
            with_strings.splitlines()) else ""
        if directive == "define":
            name_match = re.match(r"[ \t]*(\w+)(\()?", rest)
            name = name_match.group(1) if name_match else ""
            function_like = bool(name_match and name_match.group(2))
            body = rest[name_match.end():] if name_match else rest
            if name in DOCTEST_MACROS or name.startswith("DOCTEST") or name.startswith("LAB_"):
                findings.append(f"{rel}:{line}: '#define {name}': redefines a test-framework "
                                "macro")
            elif function_like or not _macro_allowed(body):
                findings.append(f"{rel}:{line}: '#define {name}': a macro with a body can "
                                "rewrite the checkpoint code that includes your file; use "
                                "constexpr or an inline function (only include guards and "
                                "numeric constants are allowed)")
        elif directive == "undef":
            findings.append(f"{rel}:{line}: '#undef': can unmake the test framework's macros")
        elif directive == "pragma":
            if rest.strip() != "once":
                findings.append(f"{rel}:{line}: '#pragma{rest.rstrip()}': only '#pragma once' "
                                "is allowed (a pragma can switch off the sanitizer)")
        elif directive in ("include", "include_next", "import"):
            target = re.search(r"[<\"]([^>\"]*)[>\"]", raw_line)
            path = target.group(1) if target else ""
            if directive != "include":
                findings.append(f"{rel}:{line}: '#{directive}': use #include")
            elif not target:
                findings.append(f"{rel}:{line}: '#include' of a macro: name the header")
            elif "doctest" in path.lower():
                findings.append(f"{rel}:{line}: '#include <{path}>': includes the test "
                                "framework")
            elif path.startswith("/") or ".." in Path(path).parts:
                findings.append(f"{rel}:{line}: '#include \"{path}\"': includes a file outside "
                                "the course's include paths")
            elif path.endswith((".cpp", ".cc", ".c", ".cxx", ".inc", ".ipp")) or \
                    path in ("main.cpp", "lab_test.hpp"):
                findings.append(f"{rel}:{line}: '#include \"{path}\"': includes a source file "
                                "or the checkpoints' helpers")
        elif directive == "line":
            findings.append(f"{rel}:{line}: '#line': would disguise where code comes from")
    for regex, why in TAMPER_RULES:
        for match in re.finditer(regex, code):
            findings.append(f"{rel}:{where(match.start())}: '{match.group(0).strip()}': {why}")
    for regex, why in _RAW_PATTERNS:
        for match in regex.finditer(with_strings):
            findings.append(f"{rel}:{with_strings.count(chr(10), 0, match.start()) + 1}: "
                            f"'{match.group(0)}': {why}")
    return list(dict.fromkeys(findings))


def linked_files(m: Milestone) -> list[str]:
    """The milestone's editable code files that end up inside a checkpoint executable:
    every header, and the .cpp files its checkpoints/NN-name/CMakeLists.txt names."""
    cmake = m.directory / "CMakeLists.txt"
    cmake_text = cmake.read_text(errors="replace") if cmake.exists() else ""
    result = []
    for name in m.files:
        if name.endswith(HEADER_SUFFIXES):
            result.append(name)
        elif is_code(name) and re.search(rf"(?<![\w.]){re.escape(name)}\b",
                                                         cmake_text):
            result.append(name)
    return result


def rule_check(m: Milestone, track: Path, tamper_rules: bool) -> tuple[list[str], list[str]]:
    """(tamper findings, manifest-forbidden findings) on the student's version in track."""
    tamper = []
    if tamper_rules:
        for name in linked_files(m):
            path = track / m.slug / name
            if path.exists():
                tamper += tamper_findings(f"starter/{m.slug}/{name}",
                                          path.read_text(errors="replace"))
    forbidden = [f"starter/{v}" for v in forbidden_violations(m, track)]
    return tamper, forbidden


