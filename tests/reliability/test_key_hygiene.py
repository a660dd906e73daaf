"""The integration key leaks nowhere: files, logs, reprs, errors, tracebacks, widget output.

Point 3 of the reliability issue. One session touches every operation, errors of each kind,
retries (the sandbox injects faults) and the widgets, with every logger at DEBUG; then every place
the key could have been copied to is searched for it, in the forms it could take.
"""

from __future__ import annotations

import base64
import json
import logging
import traceback
from pathlib import Path
from urllib.parse import quote

import ipywidgets
import pandas as pd
import pytest

import pendo_nb as pn
from pendo_nb.http.session import cache_dir
from pendo_nb.sandbox import FaultPlan, Sandbox
from pendo_nb.widgets import (
    AccountLookup,
    AggregationComposer,
    MetadataEditor,
    ReportPicker,
    VisitorLookup,
)

from .reliability_helpers import QUICK_RETRY

DAY_MS = 86_400_000
KEY = "rel-Key-7c1e94b0d25a4f38a6"
READ_ONLY_KEY = "rel-RoKey-3b8d51f6e07c42a9"
WRONG_KEY = "rel-Wrong-e5a90c27d41b4866"
SECRETS = (KEY, READ_ONLY_KEY, WRONG_KEY)


def forms(secret: str) -> list[str]:
    """The key as it could appear once copied: as is, URL-quoted, base64 (plain and URL-safe)."""
    raw = secret.encode()
    return [
        secret,
        quote(secret, safe=""),
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
    ]


def leaks(text: str) -> list[str]:
    return [form for secret in SECRETS for form in forms(secret) if form in text]


def widget_texts(widget) -> list[str]:
    """What a widget would send to the browser (its state, and its children's) and display."""
    texts, stack, seen = [], [widget], set()
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        texts.append(json.dumps(item.get_state(), default=str))
        texts.append(repr(item))
        stack += [c for c in getattr(item, "children", ()) if isinstance(c, ipywidgets.Widget)]
    bundle = widget._repr_mimebundle_() if hasattr(widget, "_repr_mimebundle_") else None
    texts.append(json.dumps(bundle, default=str))
    return texts


@pytest.fixture
def session_texts(caplog, clock):
    """Run the whole session; return (label, text) for everything it produced."""
    caplog.set_level(logging.DEBUG)
    texts: list[tuple[str, str]] = []
    errors: list[BaseException] = []

    def keep(label: str, value) -> None:
        texts.append((f"repr {label}", repr(value)))
        texts.append((f"str {label}", str(value)))
        if isinstance(value, pd.DataFrame):
            texts.append((f"attrs {label}", repr(value.attrs)))
            texts.append((f"html {label}", value.to_html()))
        if hasattr(value, "_repr_html_"):
            texts.append((f"html {label}", str(value._repr_html_())))

    def expect_error(label: str, call) -> None:
        try:
            call()
        except pn.PendoError as exc:
            errors.append(exc)
            keep(label, exc)
        else:
            raise AssertionError(f"{label}: expected an error")

    plan = FaultPlan(faults=("429", "503", "reset", "truncate"), rate=0.25, seed=8)
    with Sandbox(size="small", key=KEY, read_only_key=READ_ONLY_KEY, faults=plan) as sandbox:
        sub = sandbox.subscription
        vid, aid = sub.visitor_ids[3], sub.account_ids[2]
        listed = [r["id"] for r in sub.reports if r["definition"].get("type") == "List"]
        client = pn.connect(key=KEY, base_url=sandbox.url, rate_limit=None, retry=QUICK_RETRY)
        keep("client", client)
        keep("session", client._session)
        keep("cache_info", pn.cache_info())
        pipeline = pn.source.visitors().select(visitorId="visitorId").limit(5)
        keep("pipeline", pipeline)
        keep("pipeline code", pipeline.to_code())
        keep("pipeline curl", pipeline.to_curl())
        keep("aggregate", pn.aggregate(pipeline))
        keep("account", pn.account(aid))
        keep("visitor", pn.visitor(vid))
        keep("history", pn.visitor_history(vid, sub.now_ms - 2 * DAY_MS))
        keep("reports", pn.reports())
        keep("report", pn.report(listed[0]))
        keep("report_csv", pn.report_csv(listed[0]))
        rows = pd.DataFrame({"visitorId": [vid, "nobody-here"], "department": ["ops", "ops"]})
        keep("dry run", pn.update_values("visitor", rows, dry_run=True))
        keep("update", pn.update_values("visitor", rows))
        keep("faults seen", list(sandbox.faults.seen))
        injected = sandbox.faults.counts().total()
        keep("sandbox", sandbox)

        expect_error("not found", lambda: pn.visitor("nobody-here"))
        expect_error("bad filter", lambda: pn.aggregate([{"source": {"visitors": None}},
                                                          {"filter": "visitorId =="}]))  # fmt: skip
        expect_error("validation", lambda: pn.update_values("visitor", "not rows"))
        read_only = pn.PendoClient(READ_ONLY_KEY, base_url=sandbox.url, rate_limit=None)
        keep("read-only client", read_only)
        expect_error("read-only write", lambda: read_only.update_values("visitor", rows))
        wrong = pn.PendoClient(WRONG_KEY, base_url=sandbox.url, rate_limit=None)
        expect_error("wrong key", lambda: wrong.reports())
        expect_error("persistent 503", lambda: _persistent_503(sandbox, client))

        picker = ReportPicker(client)
        picker.value = listed[0]
        keep("picker result", picker.load())
        found = VisitorLookup(client, value=vid)
        found.lookup()
        missing = AccountLookup(client, value="no-such-account")
        missing.lookup()
        composer = AggregationComposer(client)
        composer.run()
        editor = MetadataEditor(client, data=rows)
        editor.run_preview()
        for widget in (picker, found, missing, composer, editor):
            texts += [(f"widget {type(widget).__name__}", t) for t in widget_texts(widget)]
        read_only.close()
        wrong.close()
        url = sandbox.url
    unreachable = pn.PendoClient(KEY, base_url=url, rate_limit=None, retry=QUICK_RETRY)
    expect_error("server gone", lambda: unreachable.reports(refresh=True))

    for error in errors:
        text = "".join(traceback.format_exception(error))
        texts.append((f"traceback {type(error).__name__}", text))
    texts.append(("log", caplog.text))
    for record in caplog.records:
        texts.append((f"log record {record.name}", f"{record.getMessage()} {record.args!r}"))
    assert len(caplog.records) > 50, "the session should have logged at DEBUG"
    assert {type(e).__name__ for e in errors} >= {
        "NotFoundError", "BadRequestError", "ValidationError", "WriteAccessError",
        "AuthenticationError", "ServerError", "PendoConnectionError",
    }  # fmt: skip
    assert injected > 0 and clock.waits  # retries did happen
    return texts


def _persistent_503(sandbox: Sandbox, client: pn.PendoClient):
    sandbox.faults.use(FaultPlan(faults="503", rate=1.0))
    try:
        return client.reports(refresh=True)
    finally:
        sandbox.faults.use(FaultPlan(rate=0.0))


def test_the_key_appears_in_no_output_log_repr_error_or_widget(session_texts):
    leaked = [(label, form) for label, text in session_texts for form in leaks(text)]
    assert leaked == []


def test_the_key_appears_in_no_file_of_the_cache(session_texts):
    files = [p for p in Path(cache_dir()).rglob("*") if p.is_file()]
    # The cache holds the requests themselves (URL, headers), so a copied header would be there.
    assert any(b"/api/v1/visitor/" in p.read_bytes() for p in files)
    for path in files:
        content = path.read_bytes()
        assert [f for s in SECRETS for f in forms(s) if f.encode() in content] == [], path


def test_the_checks_would_see_a_key():
    # The searches above are worth something only if they find a key where there is one.
    assert leaks(f"header: {KEY}") and leaks(quote(READ_ONLY_KEY)) and leaks(forms(WRONG_KEY)[3])
