"""AccountLookup: type an account id, see the account's metadata grouped by origin."""

from __future__ import annotations

from pendo_nb.widgets._lookup import ObjectLookup

__all__ = ["AccountLookup"]


class AccountLookup(ObjectLookup):
    """Look up one account by id and show it grouped by metadata group.

    Type the id and press Enter (or click Look up); :func:`pendo_nb.account` fetches it.

    Parameters
    ----------
    client : PendoClient, optional
        The connection to use; default: the default client (the last :func:`pendo_nb.connect`).
    value : str, optional
        An account id to look up straight away.

    Attributes
    ----------
    value : str or None
        The account id. Setting it looks the account up.
    result : pandas.DataFrame or None
        The account as a one-row DataFrame (None after a failed lookup).

    Examples
    --------
    >>> display(AccountLookup(value="acme"))  # doctest: +SKIP
    """

    kind = "account"
