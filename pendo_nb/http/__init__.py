"""The HTTP layer: session, cache, retries, regions and keys, one method per Pendo endpoint.

It returns what the server sent (:class:`~pendo_nb.http.connection.PendoResponse`) and knows
nothing of DataFrames: it never imports pandas.
"""
