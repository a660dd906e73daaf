"""The pulls layer: what takes more than one request, built on one primitive.

:func:`~pendo_nb.pulls.aggregation.aggregation_frame` sends one aggregation body and returns its
typed DataFrame; windows, pages, Dask partitions are calls of it. Visitor history, metadata
writes, the server's clock, schemas and the frame cache live here too.
"""
