"""The lab tool's shape: no import circles, no module over 400 lines, every command bound to
its function explicitly, the student release's code free of instructor imports."""

import ast
import unittest
from pathlib import Path

from labtool import cli

PACKAGE = Path(__file__).resolve().parents[1] / "labtool"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Modules of the lab tool that this module imports at its top level or in functions."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")
            base = base[:len(base) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if (PACKAGE.parent / (sub.replace(".", "/") + ".py")).exists()
                          or (PACKAGE.parent / sub.replace(".", "/")).is_dir() else target)
    return {f for f in found if f != name}


class Shape(unittest.TestCase):
    def test_no_import_circles(self):
        graph = {_module_name(p): _imports(p) for p in PACKAGE.rglob("*.py")}

        def reaches(start: str, goal: str, seen: set) -> bool:
            for nxt in graph.get(start, ()):
                if nxt == goal or (nxt not in seen and (seen.add(nxt) or reaches(nxt, goal, seen))):
                    return True
            return False

        circles = [m for m in graph if reaches(m, m, set())]
        self.assertEqual(circles, [], "modules that import themselves back")

    def test_no_module_over_400_lines(self):
        long = [f"{p.relative_to(PACKAGE)}: {n}" for p in PACKAGE.rglob("*.py")
                if (n := len(p.read_text().splitlines())) > 400]
        self.assertEqual(long, [])

    def test_shipped_modules_never_import_the_instructor_package(self):
        for path in PACKAGE.rglob("*.py"):
            if "instructor" in path.relative_to(PACKAGE).parts or path.name == "cli.py":
                continue
            bad = {i for i in _imports(path) if i.startswith("labtool.instructor")}
            self.assertEqual(bad, set(), str(path))

    def test_no_import_error_guards(self):
        for path in PACKAGE.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ExceptHandler) and isinstance(node.type, ast.Name):
                    self.assertNotIn(node.type.id, ("ImportError", "ModuleNotFoundError"),
                                     str(path))

    def test_no_unused_imports(self):
        """Dead imports are the first sign of dead code."""
        for path in PACKAGE.rglob("*.py"):
            tree = ast.parse(path.read_text())
            used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
            used |= {n.value.id for n in ast.walk(tree)
                     if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}
            text = path.read_text()
            for node in tree.body:
                future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
                if isinstance(node, (ast.Import, ast.ImportFrom)) and not future:
                    for alias in node.names:
                        name = (alias.asname or alias.name).split(".")[0]
                        in_all = f'"{name}"' in text  # re-exported through __all__
                        if name not in used and not in_all and not path.name == "__init__.py":
                            self.fail(f"{path.relative_to(PACKAGE)}: unused import {name}")

    def test_every_command_is_bound_to_a_function(self):
        parser = cli.build_parser()
        commands = parser._subparsers._group_actions[0].choices  # noqa: SLF001
        for name, sub in commands.items():
            func = sub.get_default("func")
            self.assertTrue(callable(func), name)
        self.assertIn("check", commands)
        self.assertIn("selftest", commands)


if __name__ == "__main__":
    unittest.main()
