"""The README's ten-line tour runs as written against the sandbox."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from pendo_nb.api.connect import resolve

README = Path(__file__).resolve().parents[1] / "README.md"


def tour_code() -> str:
    text = README.read_text()
    section = text.split("## A ten-line tour", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "no python block under 'A ten-line tour'"
    return match.group(1)


def test_the_tour_runs_and_each_step_gives_rows(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the tour records its snapshot in the working folder
    namespace: dict = {}
    kept = {"pn.visitor_history(": "history", "pn.update_values(": "plan", "p.run()": "replayed"}
    # Run it as written; the values of some calls are kept to look at them.
    code = "\n".join(
        next((f"{name} = {line}" for start, name in kept.items() if line.startswith(start)), line)
        for line in tour_code().splitlines()
    )
    exec(compile(code, str(README), "exec"), namespace)  # the README's own text
    top, vid = namespace["top"], namespace["vid"]
    assert len(top) == 10 and top["events"].is_monotonic_decreasing
    assert isinstance(namespace["history"], pd.DataFrame) and len(namespace["history"]) > 0
    assert set(namespace["history"]["visitorId"]) == {vid}
    plan = namespace["plan"]
    assert plan["visitorId"].tolist() == [vid]
    assert plan["outcome"].iloc[0] in ("would-change", "unchanged")
    # The last lines replay the recording: the same frame, from the file.
    assert resolve(None).replaying == Path("tour.pendo")
    pd.testing.assert_frame_equal(namespace["replayed"], top)
    assert (tmp_path / "tour.pendo").is_file()
