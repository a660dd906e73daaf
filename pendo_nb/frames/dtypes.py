"""The dtypes of the columns pendo_nb makes, in one place (docs: "Column dtypes").

* Text: :data:`TEXT_DTYPE`, pandas 3's default ``str`` (Arrow-backed, ``NaN`` where missing).
  It is what pandas itself infers for text, so ``value_counts()``, ``groupby`` and
  ``merge`` with the user's own frames give plain ``int64`` counts and no dtype surprises.
* Whole numbers ``Int64``, other numbers ``Float64``, booleans ``boolean``: nullable, so a missing
  value does not turn a column of counts into floats or flags into ``object``.
* Instants (``browserTime``, ``lastVisit``...): ``datetime64[us, <tz>]`` in the client's time
  zone (UTC by default), whole milliseconds as Pendo keeps them.
* Period buckets (``day``, ``week``... and ``startOfPeriod`` results): ``datetime64[us]`` without
  a zone, holding the bucket's calendar start on the client's clock, so a day prints as
  ``2026-10-25`` and a naive date compares with it directly
  (see :func:`pendo_nb.frames.times.bucket_starts`).
* Anything else (lists, objects, values of mixed types): ``object``.
"""

from __future__ import annotations

from typing import Final, Literal

import numpy as np
import pandas as pd

__all__ = ["TEXT_DTYPE", "TIME_UNIT"]

#: The dtype of every text column: pandas 3's default string dtype (``str``).
TEXT_DTYPE = pd.StringDtype(storage="pyarrow", na_value=np.nan)
#: The resolution of datetime columns: pandas 3's own default (``pd.Timestamp.now().unit``).
TIME_UNIT: Final[Literal["us"]] = "us"
