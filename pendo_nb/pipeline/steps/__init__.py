"""One small frozen class per pipeline operator of reference 3.5, by kind.

``base`` holds what every step shares (the ``Step`` base, the registry ``steps_from_json`` reads,
builder code); ``basic``, ``pendo`` and ``advanced`` hold the operators. ``Pipeline`` methods are
thin twins of these classes. Importing this package registers every operator.
"""

from pendo_nb.pipeline.steps.advanced import Fork, Join, Merge, Spawn, Switch, Unwind
from pendo_nb.pipeline.steps.base import (
    Step,
    Unofficial,
    chain_code,
    register,
    step_class,
    steps_from_json,
)
from pendo_nb.pipeline.steps.basic import (
    Cat,
    Count,
    Eval,
    Filter,
    Group,
    Limit,
    Reduce,
    Select,
    Set,
    Sort,
)
from pendo_nb.pipeline.steps.pendo import (
    BulkExpand,
    Expand,
    Identified,
    ItemSeen,
    Segment,
    Useragent,
)

__all__ = [
    "BulkExpand",
    "Cat",
    "Count",
    "Eval",
    "Expand",
    "Filter",
    "Fork",
    "Group",
    "Identified",
    "ItemSeen",
    "Join",
    "Limit",
    "Merge",
    "Reduce",
    "Segment",
    "Select",
    "Set",
    "Sort",
    "Spawn",
    "Step",
    "Switch",
    "Unofficial",
    "Unwind",
    "Useragent",
    "chain_code",
    "register",
    "step_class",
    "steps_from_json",
]
