"""The metadata schema of visitors and accounts (reference 4.4), with Pendo's mixed-case keys.

The field tables below describe every metadata field the generator writes; ``field_definition``
also serves the bulk-update endpoint, which creates unknown fields with an unset type.
"""

from __future__ import annotations

from typing import Any

from pendo_nb.sandbox.subscription.people import Population

# (group, field, Type, DisplayName[, ElementType]) per kind.
_VISITOR_FIELDS = (
    ("auto", "id", "string", "Visitor ID"),
    ("auto", "idhash", "integer", "ID Hash"),
    ("auto", "accountid", "string", "Account ID"),
    ("auto", "accountids", "list", "Account IDs", "string"),
    ("auto", "firstvisit", "time", "First Visit"),
    ("auto", "lastvisit", "time", "Last Visit"),
    ("auto", "lastupdated", "time", "Last Updated"),
    ("auto", "lastbrowsername", "string", "Last Browser Name"),
    ("auto", "lastbrowserversion", "string", "Last Browser Version"),
    ("auto", "lastoperatingsystem", "string", "Last Operating System"),
    ("auto", "lastservername", "string", "Last Server Name"),
    ("auto", "lastuseragent", "string", "Last User Agent"),
    ("agent", "email", "string", "Email"),
    ("agent", "name", "string", "Name"),
    ("agent", "role", "string", "Role"),
    ("agent", "language", "string", "Language"),
    ("custom", "department", "string", "Department"),
    ("custom", "onboardingprogress", "float", "Onboarding Progress"),
    ("custom", "logincount", "integer", "Login Count"),
    ("custom", "betaopt", "boolean", "Beta Opt-in"),
    ("custom", "signupdate", "time", "Signup Date"),
    ("pendo", "donotprocess", "boolean", "Do Not Process"),
    ("pendo", "blacklistguides", "boolean", "Guides Disabled"),
    ("pendo", "designerenabled", "boolean", "Designer Enabled"),
)
_ACCOUNT_FIELDS = (
    ("auto", "id", "string", "Account ID"),
    ("auto", "idhash", "integer", "ID Hash"),
    ("auto", "firstvisit", "time", "First Visit"),
    ("auto", "lastvisit", "time", "Last Visit"),
    ("auto", "lastupdated", "time", "Last Updated"),
    ("agent", "name", "string", "Name"),
    ("agent", "plan", "string", "Plan"),
    ("agent", "industry", "string", "Industry"),
    ("agent", "region", "string", "Region"),
    ("custom", "csm", "string", "CSM"),
    ("custom", "arr", "float", "ARR"),
    ("custom", "seats", "integer", "Seats"),
    ("custom", "ispaying", "boolean", "Is Paying"),
    ("custom", "renewaldate", "time", "Renewal Date"),
    ("pendo", "donotprocess", "boolean", "Do Not Process"),
)


def field_definition(
    type_: str, display_name: str, element_type: str = "", sample: Any = None
) -> dict[str, Any]:
    """One schema entry, with Pendo's mixed-case keys (reference 4.4)."""
    definition: dict[str, Any] = {
        "Type": type_,
        "DisplayName": display_name,
        "ElementType": element_type,
        "ElementFormat": "",
        "Dirty": False,
        "isHidden": False,
        "isDeleted": False,
        "isCalculated": False,
        "isPerApp": False,
        "isPromoted": False,
        "neverIndex": False,
    }
    if sample is not None:
        definition["sample"] = sample
    return definition


def build_schema(population: Population) -> dict[str, dict[str, Any]]:
    """The metadata schema of visitors and accounts; agent fields carry a ``sample`` value."""
    schema: dict[str, dict[str, Any]] = {}
    for kind, fields, rows in (
        ("visitor", _VISITOR_FIELDS, population.visitors),
        ("account", _ACCOUNT_FIELDS, population.accounts),
    ):
        first_row = next(iter(rows.values()))["metadata"]
        groups: dict[str, dict[str, Any]] = {}
        for group, name, type_, display, *element in fields:
            sample = first_row.get("agent", {}).get(name) if group == "agent" else None
            groups.setdefault(group, {})[name] = field_definition(
                type_, display, element[0] if element else "", sample=sample
            )
        schema[kind] = groups
    return schema
