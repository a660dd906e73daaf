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


def shown_after(heading: str, index: int) -> str:
    """The ``index``-th ```text block of a README section: the output the README shows."""
    section = README.read_text().split(heading, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```text\n(.*?)```", section, re.S)[index]


def test_the_outputs_the_readme_shows_are_what_the_code_gives(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    import pendo_nb as pn

    pn.connect(sandbox=True)
    first = pn.reports()[["name", "definition.kind"]]
    assert shown_after("## First DataFrame", 0).strip("\n") == first.to_string()
    top = (
        pn.source.events(app_id="*")
        .last(30, "days")
        .group("visitorId", events=pn.agg.sum("numEvents"))
        .sort("-events")
        .limit(10)
        .run()
    )
    vid = top["visitorId"][0]
    history = pn.visitor_history(vid, start="2026-10-25", end="2026-10-28")
    plan = pn.update_values("visitor", [{"visitorId": vid, "betaopt": True}], dry_run=True)
    by_type = history.groupby("type").size().to_string().replace("\ndtype: int64", "")
    shown = [
        top.head(3).to_string(),
        by_type,
        plan[["visitorId", "outcome", "old.betaopt", "new.betaopt"]].to_string(),
    ]
    assert shown_after("## A ten-line tour", 0).strip("\n") == "\n\n".join(shown)
