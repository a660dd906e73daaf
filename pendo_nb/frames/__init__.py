"""The frames layer: JSON and CSV rows to typed DataFrames, stitching, frame files.

It knows nothing of HTTP: it turns bytes and rows into DataFrames, whoever fetched them.

Conventions (the same whichever reader built the frame: :mod:`~pendo_nb.frames.json_reader`,
which picks the columnar or the plain reader, :mod:`~pendo_nb.frames.streamed_reader`,
:mod:`~pendo_nb.frames.plain_reader`, :mod:`~pendo_nb.frames.csv_reader`):

* nested objects become dotted columns (``metadata.agent.email``); lists stay Python lists;
* columns appear in first-seen order, children right after their parent's first appearance;
* dtypes as :mod:`pendo_nb.frames.dtypes` says: nullable ``Int64``, ``Float64``, ``boolean``,
  text as pandas' ``str``; mixed values stay ``object``;
* epoch-millisecond instants (``EPOCH_MS_FIELDS``, ``time`` fields of the metadata schema)
  become timezone-aware datetimes; period buckets (``BUCKET_MS_FIELDS``, ``startOfPeriod``
  results) become zone-less datetimes of their calendar start (:func:`times.bucket_starts`);
  both sets of names are in :mod:`~pendo_nb.frames.field_types`;
* metadata fields are cast to their schema type; a value that does not fit becomes NA, is listed
  in ``df.attrs["uncast_values"]`` and announced with a ``CastWarning``
  (:mod:`~pendo_nb.frames.casts`);
* an empty result keeps the columns the request implies (:mod:`~pendo_nb.frames.implied_columns`);
* ``df.attrs`` holds provenance (request id, url, host, region, fetched_at, from_cache, ...).
"""
