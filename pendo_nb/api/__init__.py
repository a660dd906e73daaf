"""The public verbs: ``connect()``, :class:`PendoClient` and the module-level functions.

``client`` writes each operation once, as a ``PendoClient`` method built on :mod:`pendo_nb.pulls`;
``functions`` runs those methods on the default client that ``connect`` keeps.
"""
