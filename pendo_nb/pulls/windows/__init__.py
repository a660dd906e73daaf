"""``pn.aggregate(p, windows=...)``: a long aggregation split into time windows.

``plan`` decides whether splitting is exact, ``boundaries`` reads the windows from the server,
``pull`` fetches them in parallel (halving failures) and ``combine`` joins their rows.
"""

from pendo_nb.pulls.windows.boundaries import Window
from pendo_nb.pulls.windows.plan import SplitPlan, WindowSize, split_plan
from pendo_nb.pulls.windows.pull import WindowedPull, aggregate_in_windows, plan_pull

__all__ = [
    "SplitPlan",
    "Window",
    "WindowSize",
    "WindowedPull",
    "aggregate_in_windows",
    "plan_pull",
    "split_plan",
]
