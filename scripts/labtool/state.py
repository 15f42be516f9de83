"""The student's local state, .lab/state.json: hints unlocked and the last check's results."""

from __future__ import annotations

import json

from .console import warn
from .course import ROOT

STATE_DIR = ROOT / ".lab"


def load_state() -> dict:
    path = STATE_DIR / "state.json"
    if path.exists():
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError:
            warn(f"{path} is damaged; starting a fresh one")
    return {}


def save_state(state: dict) -> None:
    STATE_DIR.mkdir(exist_ok=True)
    tmp = STATE_DIR / "state.json.tmp"
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
    tmp.replace(STATE_DIR / "state.json")
