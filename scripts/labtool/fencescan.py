"""Where a milestone's code calls a standalone fence, as the compiler sees it, for the CTest
run strategy (`check`, `selftest`): each translation unit of the milestone (from the build's
compile_commands.json) is preprocessed with its own compile command turned into `-E -dD`
(grade/cxxrules.py's units() and preprocess_argv()), and the tokens that come from the
milestone's own files (grade/cxxscan.py's walk(), the grader's reading of line markers) are
searched for a fence (fences.first_fence). Comments are gone after preprocessing; a macro that
expands to a fence shows the fence where it is used. The grader does the same scan in its
sandbox (grade/confine.py), on the token streams its rules already read."""

from __future__ import annotations

import json
import os
import subprocess

from .build import Tree
from .course import Milestone
from .fences import first_fence
from .grade.cxxrules import units
from .grade.cxxscan import Policy, walk

PREPROCESS_TIMEOUT = 120        # seconds for one translation unit


def fence_in_tree(tree: Tree, m: Milestone) -> str | None:
    """'<track label>/NN-name/file.hpp:LINE' of the first fence call in milestone m's own files
    in this tree's track, or None (also when the milestone's units cannot be read: the rule
    then changes nothing)."""
    track = tree.track()
    own = {os.path.realpath(track / m.slug / name): name for name in m.files
           if (track / m.slug / name).is_file()}
    if not own:
        return None
    try:
        data = json.loads((tree.build_dir / "compile_commands.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None
    label = track.name
    for unit in units(data, m.label):
        try:
            proc = subprocess.run(unit.argv, cwd=unit.directory, capture_output=True,
                                  text=True, errors="replace", timeout=PREPROCESS_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if proc.returncode != 0:
            continue
        scan = walk(proc.stdout, Policy(track, set(own), set()))
        for path, tokens in scan.tokens.items():
            if path not in own:
                continue
            found = first_fence(tokens)
            if found is not None:
                return f"{label}/{m.slug}/{own[path]}:{found[1]}"
    return None
