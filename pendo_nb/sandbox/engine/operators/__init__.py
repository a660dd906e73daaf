"""Pipeline operators (reference 3.5): one ``compile_<step>`` function per step type.

``row_steps`` holds the steps that filter, reshape and order rows one by one; ``grouping`` the
ones that combine rows by key (``group``, ``reduce``, ``join``); ``lookups`` the ones that read
the subscription for each row (``bulkExpand``, ``expand``, ``itemSeen``, ``segment``). The steps
that hold pipelines of their own (``fork``, ``spawn``, ``merge``) live with the compiler
(``engine/compiler.py``), which also holds the table of every step type (``OPERATORS``).

Each function checks the step's argument and returns ``run(rows, state) -> rows``. Steps never
change the list they are given (a ``fork`` hands the same list to every branch) and return a new
one; ``eval``, ``set`` and the expanding steps change rows in place, which is how Pendo shares a
row between fork branches. Rows share nested objects with each other and with the subscription
(``unwind`` copies only the top level, ``merge`` hands one inner value to several rows,
``bulkExpand`` attaches the subscription's own metadata), so every write goes through
``write_path``, which copies the objects on its way instead of changing them.

Choices where the reference is silent, each documented at its step: ``sort`` puts nulls first
ascending (last descending); ``join`` lets later rows' fields win and emits incomplete joins at the
end; ``merge`` lets the first inner row of a key win; ``reduce`` over no rows gives one row of the
aggregators' empty values; ``unwind`` treats a missing field as an empty list.
"""
