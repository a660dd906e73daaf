"""What each ``pn.source`` function tells a user: its rows, its parameters, an example.

:mod:`pendo_nb.pipeline.start` writes each source function's docstring from these tables (what
``pn.source.page_events?`` shows in a notebook and the API reference prints), and the reference's
table of sources is made from them too, so the two never disagree. The examples run against the
sandbox in the test suite (tests/client/test_docstring_examples.py).
"""

from __future__ import annotations

from pendo_nb.pipeline._values import snake_case
from pendo_nb.pipeline.sources import COMMON_PARAMETERS, SOURCES

__all__ = ["PARAMETERS", "ROWS", "docstring", "parameters_of"]

#: Source name -> what one row of it is.
ROWS: dict[str, str] = {
    "visitors": "One row per visitor ever seen, with their metadata (a current snapshot).",
    "accounts": "One row per account ever seen, with its metadata (a current snapshot).",
    "doNotProcessVisitors": "The visitors flagged Do Not Process.",
    "doNotProcessAccounts": "The accounts flagged Do Not Process.",
    "pages": "One row per tagged page: its id, app, name and rules.",
    "features": "One row per tagged feature: its id, app, name and page.",
    "trackTypes": "One row per track event type.",
    "guides": "One row per guide: its state, steps, polls and audience.",
    "groups": "One row per product area (or guide category).",
    "apps": "One row per application of the subscription.",
    "vocItems": "Listen feedback and ideas (not served by the sandbox).",
    "votes": "Votes on Listen ideas (not served by the sandbox).",
    "guidesSeenEver": "One row per visitor and guide step ever seen: first and last seen, state.",
    "pollsSeenEver": "One row per visitor and poll ever answered, with the last response.",
    "events": (
        "All events, tagged or not, grouped: one row per visitor, account, app, day (or hour) and "
        "the other dimensions, with ``numEvents`` and ``numMinutes``."
    ),
    "pageEvents": "Tagged page loads, grouped as ``events`` are, with the ``pageId``.",
    "featureEvents": "Tagged feature clicks, grouped as ``events`` are, with the ``featureId``.",
    "trackEvents": "Track events, grouped as ``events`` are, with the ``trackTypeId``.",
    "guideEvents": "One row per guide event (seen, advanced, dismissed...), not grouped.",
    "guidesSeen": "Visitors whose last view of a guide step falls in the periods read.",
    "pollEvents": "One row per poll response, not grouped.",
    "pollsSeen": "Visitors whose last poll response falls in the periods read.",
    "emailEvents": "One row per e-mail event (sent, opened, clicked...), not grouped.",
    "singleEvents": "One row per raw event, not grouped.",
    "timespan": "Undocumented special source (not served by the sandbox).",
    "recordingMetadata": "Undocumented: session-recording metadata (not served by the sandbox).",
    "agenticEvents": "Undocumented: events of AI agents (not served by the sandbox).",
    "rawEvents": "Undocumented: raw events (not served by the sandbox).",
    "const": "Rows written inline: for trying steps out without reading any data.",
}

#: Parameter (Pendo's name) -> what it does, for users.
PARAMETERS: dict[str, str] = {
    "appId": (
        'Which apps: an app id, a list of ids, or ``"*"`` (all), ``"web"``, ``"extension"``, '
        '``"mobile"``, ``"ios"``, ``"android"`` (several joined by ``|``). Default: the default '
        "app only."
    ),
    "blacklist": (
        '``"apply"`` (default) leaves out what the subscription excludes (internal users...), '
        '``"ignore"`` keeps it, ``"only"`` keeps only it.'
    ),
    "since": "Only visitors updated since this time (epoch ms or an expression).",
    "identified": "``True``: identified visitors only; ``False``: anonymous ones too.",
    "pageId": "One page's id.",
    "pageIds": "A list of page ids.",
    "featureId": "One feature's id.",
    "featureIds": "A list of feature ids.",
    "trackTypeId": "One track type's id.",
    "trackTypeIds": "A list of track type ids.",
    "guideId": "One guide's id.",
    "guideStepId": "One step of that guide.",
    "pollId": "One poll of that guide.",
    "items": "``True``: list each group's member pages and features.",
    "groupType": '``"group"`` (product areas, the default) or ``"guideCategory"``.',
    "type": '``"feedback"`` or ``"idea"``.',
    "eventClass": 'Kinds of events: a list such as ``["web", "ios"]``.',
    "reverseTime": "``True``: newest events first.",
    "targetType": '``"campaign"`` or ``"guide"``.',
    "targetId": "The campaign's or guide's id.",
    "eventType": (
        '``"sent"``, ``"delivered"``, ``"opened"``, ``"clicked"``, ``"bounced"``, '
        '``"unsubscribed"``, ``"complaint"`` or ``"subscribed"``.'
    ),
    "kind": '``"visitor"`` or ``"account"``.',
}

_SETUP = ">>> import pendo_nb as pn\n>>> _ = pn.connect(sandbox=True)\n"

#: Source name -> its example (after the setup lines), with the output it gives on the sandbox.
EXAMPLES: dict[str, str] = {
    "visitors": """\
>>> pn.source.visitors(identified=True).preview(3)[["visitorId", "metadata.agent.role"]]
                               visitorId metadata.agent.role
0  farid.garcia@deltawindcapital.example              member
1  vera.young@atlasstonelearning.example              member
2     ada.rossi@willowcrestworks.example              viewer
""",
    "accounts": """\
>>> pn.source.accounts().preview(3)[["accountId", "metadata.agent.plan"]]
              accountId metadata.agent.plan
0    delta-wind-capital             starter
1  atlas-stone-learning                free
2    willow-crest-works                free
""",
    "doNotProcessVisitors": """\
>>> pn.source.do_not_process_visitors().run()["visitorId"].tolist()
['kara.kim@atlaslineworks.example']
""",
    "doNotProcessAccounts": """\
>>> len(pn.source.do_not_process_accounts().run())
0
""",
    "pages": """\
>>> pn.source.pages(app_id="*").preview(3)[["id", "name"]]
                            id            name
0  eq2lbZCE5WJ8Q-6QFUC45xkfhhw       Dashboard
1  FwvqpefEZk6fr6PmxPxJvwhFbAS         Reports
2  iE5jJz-uQpv9Y3IqXPUaQc_pThj  Report Builder
""",
    "features": """\
>>> pn.source.features(app_id="*").preview(3)[["id", "name"]]
                            id               name
0  -xyxwxyBwsF4Z9dJ6O6JVv440hH  Date Range Picker
1  xV8poMssnxM8J6TmxA5JFwHLJ3L         Add Widget
2  QBlligsRym__0Pq9BNXs6tYlO9i    Share Dashboard
""",
    "trackTypes": """\
>>> pn.source.track_types(app_id="*").preview(3)[["id", "name"]]
                            id              name
0  Cbvc-vvUZVnG8PzkUd7YlPBV9A4   Report Exported
1  8suBqiJIoy4S8IfJaey7eiQf6yH      User Invited
2  WIqDTkFo4SAfJfmetNVebc_r6qn  Search Performed
""",
    "guides": """\
>>> pn.source.guides(app_id="*").preview(3)[["id", "name", "state"]]
                            id                      name   state
0  FQElkqCLw-SJLgxgoR5Z41vrz2a  Welcome to Acme Projects  public
1  6XThCiP56wzmpzHiAHPApUyzYoC         New: AI Summaries  public
2  vNmr3JVJqdgryoF6rdHmFguTq3s         Acme Projects NPS  public
""",
    "groups": """\
>>> pn.source.groups().preview(3)[["id", "name"]]
                            id            name
0  9rTXh0TLHIaxgm9c9UJEOuD5Y-l       Analytics
1  Jgd3Jt9sal4kL56En1r_5I5iy2P   Collaboration
2  yB7slbCcm2clrd7dD6w2ktmkPwA  Administration
""",
    "apps": """\
>>> pn.source.apps().run()
                 id               name platform
0           -323232      Acme Projects      web
1  5629499534213120  Acme Projects iOS      ios
""",
    "vocItems": """\
>>> pn.source.voc_items(type="idea").to_json()["request"]["pipeline"][0]
{'source': {'vocItems': {'type': 'idea'}}}
""",
    "votes": """\
>>> pn.source.votes().to_json()["request"]["pipeline"][0]
{'source': {'votes': None}}
""",
    "guidesSeenEver": """\
>>> seen = pn.source.guides_seen_ever().preview(3)
>>> seen[["guideId", "visitorId", "lastState"]]
                       guideId             visitorId  lastState
0  FQElkqCLw-SJLgxgoR5Z41vrz2a  _PENDO_T__u1zQEyvagY   advanced
1  FQElkqCLw-SJLgxgoR5Z41vrz2a  _PENDO_T__u1zQEyvagY  dismissed
2  FQElkqCLw-SJLgxgoR5Z41vrz2a  _PENDO_T_Co9yBMeQTOF   advanced
""",
    "pollsSeenEver": """\
>>> pn.source.polls_seen_ever().preview(3)[["visitorId", "pollResponse"]]
                             visitorId pollResponse
0    yara.okoro@northmarkworks.example            3
1   sven.brown@deltafieldgoods.example            2
2  olga.weber@cobaltforgegoods.example            2
""",
    "events": """\
>>> p = pn.source.events(app_id="*").last(7, "days")
>>> p.group("day", events=pn.agg.sum("numEvents")).run().head(3)
         day  events
0 2026-10-25    2017
1 2026-10-26   10595
2 2026-10-27   10588
""",
    "pageEvents": """\
>>> p = pn.source.page_events(app_id="*").last(7, "days")
>>> p.group("pageId", views=pn.agg.sum("numEvents")).sort("-views").limit(3).run()
                        pageId  views
0  eq2lbZCE5WJ8Q-6QFUC45xkfhhw   6035
1  4X1Jc5PIA8SlIq0qbyVocAlGA6g   4513
2  tazK5pYUlCfLnSKcfqxDFNxu90X   3626
""",
    "featureEvents": """\
>>> p = pn.source.feature_events(app_id="*").last(7, "days")
>>> p.group("featureId", clicks=pn.agg.sum("numEvents")).sort("-clicks").limit(3).run()
                     featureId  clicks
0  -xyxwxyBwsF4Z9dJ6O6JVv440hH    3344
1  hQJdVa6XjYNCok5mxM3xlengj_t    2739
2  7zMNtsqTJu1Apo4Ii_uDOR2Xc_e    1990
""",
    "trackEvents": """\
>>> p = pn.source.track_events(app_id="*").last(7, "days")
>>> p.group("trackTypeId", n=pn.agg.sum("numEvents")).sort("-n").limit(3).run()
                   trackTypeId     n
0  WIqDTkFo4SAfJfmetNVebc_r6qn  2775
1  Cbvc-vvUZVnG8PzkUd7YlPBV9A4  1672
2  CBeowtPykyWB-xnaWj60PYe4FsA   744
""",
    "guideEvents": """\
>>> p = pn.source.guide_events().last(30, "days")
>>> p.group("type", n=pn.agg.count()).sort("type").run()
             type    n
0   guideActivity  516
1   guideAdvanced  516
2  guideDismissed  146
3       guideSeen  710
4    guideTimeout   48
5    pollResponse  110
""",
    "guidesSeen": """\
>>> p = pn.source.guides_seen().last(30, "days")
>>> p.group("guideId", visitors=pn.agg.count("visitorId")).sort("-visitors").limit(3).run()
                       guideId  visitors
0  FQElkqCLw-SJLgxgoR5Z41vrz2a       210
1  vNmr3JVJqdgryoF6rdHmFguTq3s        88
2  6XThCiP56wzmpzHiAHPApUyzYoC        63
""",
    "pollEvents": """\
>>> p = pn.source.poll_events().last(30, "days")
>>> p.reduce(responses=pn.agg.count()).run()
   responses
0        110
""",
    "pollsSeen": """\
>>> p = pn.source.polls_seen().last(30, "days")
>>> p.reduce(visitors=pn.agg.count("visitorId")).run()
   visitors
0        78
""",
    "emailEvents": """\
>>> p = pn.source.email_events(event_type="opened").last(30, "days")
>>> p.to_json()["request"]["pipeline"][0]["source"]["emailEvents"]
{'eventType': 'opened'}
""",
    "singleEvents": """\
>>> p = pn.source.single_events(app_id="*").on("2026-10-28")
>>> p.preview(3)[["visitorId", "type", "browserTime"]]
                              visitorId  type                   browserTime
0  quinn.diaz@orchidwindcapital.example  load 2026-10-28 06:00:09.358+00:00
1  vera.tanaka@deltawindcapital.example  load 2026-10-28 06:00:13.385+00:00
2    farid.chen@northwindhealth.example  load 2026-10-28 06:00:14.778+00:00
""",
    "timespan": """\
>>> pn.source.timespan(kind="visitor").to_json()["request"]["pipeline"][0]
{'source': {'timespan': {'kind': 'visitor'}}}
""",
    "recordingMetadata": """\
>>> pn.source.recording_metadata().to_json()["request"]["pipeline"][0]
{'source': {'recordingMetadata': None}}
""",
    "agenticEvents": """\
>>> pn.source.agentic_events().to_json()["request"]["pipeline"][0]
{'source': {'agenticEvents': None}}
""",
    "rawEvents": """\
>>> pn.source.raw_events().to_json()["request"]["pipeline"][0]
{'source': {'rawEvents': None}}
""",
    "const": """\
>>> pn.source.const([{"plan": "pro", "seats": 12}, {"plan": "free", "seats": 3}]).run()
   plan  seats
0   pro     12
1  free      3
""",
}


def parameters_of(name: str) -> tuple[str, ...]:
    """Pendo's names of the parameters the source ``name`` takes."""
    if name == "const":
        return ()
    return (*COMMON_PARAMETERS, *SOURCES[name][1])


def _timing(name: str) -> str:
    needs = SOURCES[name][0]
    if needs is True:
        return (
            "An event source: give it the periods to read with ``.last()``, ``.between()``, "
            "``.on()`` or ``.time_series()`` before running it."
        )
    if needs is False:
        return "A current snapshot: it takes no periods."
    return "Undocumented by Pendo: it may or may not take periods."


def docstring(name: str) -> str:
    """The numpydoc docstring of ``pn.source.<snake_case name>``."""
    lines = [
        f"Start a pipeline reading Pendo's ``{name}`` source.",
        "",
        ROWS[name],
        "",
        _timing(name),
        "",
        "Parameters",
        "----------",
    ]
    if name == "const":
        lines += ["rows : list of dict", "    The rows, as JSON objects."]
    for parameter in parameters_of(name):
        lines += [f"{snake_case(parameter)} : optional", f"    {PARAMETERS[parameter]}"]
    lines += [
        "",
        "Returns",
        "-------",
        "Pipeline",
        "    A pipeline of one step, the source; chain the next steps on it.",
        "",
        "Examples",
        "--------",
        _SETUP + EXAMPLES.get(name, "").strip("\n"),
    ]
    return "\n".join(lines)
