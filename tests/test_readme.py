"""The README's ten-line tour runs as written against the sandbox."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

README = Path(__file__).resolve().parents[1] / "README.md"


def tour_code() -> str:
    text = README.read_text()
    section = text.split("## A ten-line tour", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "no python block under 'A ten-line tour'"
    return match.group(1)


def test_the_tour_runs_and_each_step_gives_rows():
    namespace: dict = {}
    lines = tour_code().splitlines()
    # Run it as written; the last two calls' values are kept to look at them.
    code = "\n".join(lines[:-2] + [f"history = {lines[-2]}", f"plan = {lines[-1]}"])
    exec(compile(code, str(README), "exec"), namespace)  # the README's own text
    top, vid = namespace["top"], namespace["vid"]
    assert len(top) == 10 and top["events"].is_monotonic_decreasing
    assert isinstance(namespace["history"], pd.DataFrame) and len(namespace["history"]) > 0
    assert set(namespace["history"]["visitorId"]) == {vid}
    plan = namespace["plan"]
    assert plan["visitorId"].tolist() == [vid]
    assert plan["outcome"].iloc[0] in ("would-change", "unchanged")
