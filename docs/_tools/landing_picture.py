"""Draw the landing page's picture: a DataFrame, a form and a chart, as a notebook shows them.

::

    PYTHONPATH=$PWD python docs/_tools/landing_picture.py    # writes docs/_static/landing.png

Everything in the picture is made by pendo_nb against the sandbox (a builder result, the
ReportPicker's static view, a chart's PNG), laid out as three notebook outputs and photographed
with Debian's headless Chromium. Run it again when one of them changes look; the PNG is committed
(the site's build needs no browser).
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import pendo_nb as pn
from pendo_nb.charts import over_time
from pendo_nb.tables import readable
from pendo_nb.widgets import ReportPicker
from pendo_nb.widgets.static import static_html

OUT = Path(__file__).resolve().parents[1] / "_static" / "landing.png"
CHROMIUM = "/usr/bin/chromium"
WIDTH = 1280

BUILDER = """top = (pn.source.events(app_id="*").last(30, "days")
       .group("visitorId", events=pn.agg.sum("numEvents"))
       .sort("-events").limit(8))
top.run()"""
PICKER = """picker = ReportPicker()
picker.search.value = "accounts"       # narrows the list as you type
picker"""
CHART = """daily = (pn.source.events(app_id="*").last(30, "days")
           .group("day", visitors=pn.agg.count("visitorId")).sort("day").run())
charts.over_time(daily, "day", "visitors", title="Daily active visitors")"""

PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>
body {{ margin: 0; padding: 24px; width: {width}px; box-sizing: border-box;
  font-family: system-ui, sans-serif; background: #fff; color: #24292f; }}
.grid {{ display: grid; grid-template-columns: auto 1fr; gap: 20px; align-items: start; }}
.cell {{ border: 1px solid #d0d7de; border-radius: 8px; overflow: hidden; }}
.wide {{ grid-column: 1 / 3; }}
pre {{ margin: 0; padding: 10px 14px; background: #f6f8fa; border-bottom: 1px solid #d0d7de;
  font: 12.5px/1.45 ui-monospace, monospace; white-space: pre-wrap; }}
.out {{ padding: 12px 14px; }}
table.dataframe {{ border-collapse: collapse; font-size: 13px; }}
table.dataframe th, table.dataframe td {{ padding: 4px 10px; border-bottom: 1px solid #eee; }}
table.dataframe th {{ text-align: left; }}
table.dataframe td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
.out img {{ display: block; max-width: 100%; }}
</style></head><body><div class="grid">
<div class="cell"><pre>{builder}</pre><div class="out">{frame}</div></div>
<div class="cell"><pre>{chart_code}</pre><div class="out">
<img src="data:image/png;base64,{chart}" width="640"></div></div>
<div class="cell wide"><pre>{picker_code}</pre><div class="out">{picker}</div></div>
</div></body></html>"""


def frame_html() -> str:
    """The builder's result as an analyst reads it: numbers right-aligned with separators."""
    top = (
        pn.source.events(app_id="*")
        .last(30, "days")
        .group("visitorId", events=pn.agg.sum("numEvents"))
        .sort("-events")
        .limit(8)
        .run()
    )
    shown = readable(top)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    rows = []
    for _, row in shown.iterrows():
        cells = []
        for column, value in row.items():
            if isinstance(value, int | float) and column != "visitorId":
                cells.append(f'<td class="num">{value:,}</td>')
            else:
                cells.append(f"<td>{html.escape(str(value))}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    body = "".join(rows)
    return f'<table class="dataframe"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def chart_png() -> str:
    daily = (
        pn.source.events(app_id="*")
        .last(30, "days")
        .group("day", visitors=pn.agg.count("visitorId"))
        .sort("day")
        .run()
    )
    chart = over_time(daily, "day", "visitors", title="Daily active visitors")
    return base64.b64encode(chart.to_png()).decode()


def picker_html() -> str:
    picker = ReportPicker()
    picker.search.value = "accounts"
    picker.value = picker.reports.loc[picker.reports["name"].str.startswith("Paying"), "id"].iloc[0]
    return static_html(picker)


def main() -> None:
    from playwright.sync_api import sync_playwright

    pn.connect(sandbox=True)
    page_html = PAGE.format(
        width=WIDTH,
        builder=html.escape(BUILDER),
        frame=frame_html(),
        picker_code=html.escape(PICKER),
        picker=picker_html(),
        chart_code=html.escape(CHART),
        chart=chart_png(),
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": WIDTH, "height": 800}, device_scale_factor=1)
        page.set_content(page_html, wait_until="load")
        page.locator(".grid").screenshot(path=str(OUT))
        browser.close()
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
