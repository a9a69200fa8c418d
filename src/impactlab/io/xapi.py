"""xAPI statements (files, lists, or a live LRS) into canonical completions and assessments tables:
:func:`read_xapi` maps each verb to its rows (completed/passed/failed/attempted/scored, cmi5 waived,
voiding), reads timestamps, durations and scores by xAPI's and cmi5's rules, and returns
:class:`XapiTables`; the verb table and the value rules are in ``docs/explanation.md``, "Reading exports".
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from impactlab.errors import DataQualityWarning, check_option
from impactlab.io import _engine
from impactlab.io._engine import Context, Problem
from impactlab.io.headers import ColumnMatch
from impactlab.io.lrs_urls import ADL_VERBS
from impactlab.io.sources import RawSource
from impactlab.io.table import Table
from impactlab.io.xapi_dedup import LEDGER_COLUMNS, sort_out, statement_key
from impactlab.io.xapi_ids import ActorCrosswalk, actor_identity, build_crosswalk, describe
from impactlab.io.xapi_parse import Bad, activity_name, duration_hours, is_cmi5, load_statements, scores
from impactlab.schemas.rules import TRAINED_HAS_DATE
from impactlab.schemas.tables import ASSESSMENTS, COMPLETIONS
from impactlab.schemas.vocab import ASSESSMENT_KINDS, DEFAULT_KIND_MAP, DEFAULT_STATUS_MAP

VOIDED = ADL_VERBS + "voided"
SCORED = ADL_VERBS + "scored"
_W3ID_ADL = "https://w3id.org/xapi/adl/verbs/"
_ADL_WORDS: dict[str, str] = {
    # the ADL vocabulary (xAPI 1.0.3) and the cmi5 verbs of that namespace (cmi5 specification, 9.3)
    "completed": "completed", "passed": "passed", "failed": "failed", "attempted": "in_progress",
    "launched": "in_progress", "initialized": "in_progress", "terminated": "in_progress",
    "progressed": "in_progress", "registered": "enrolled",
}
#: Verb IRI -> canonical completion status: the ADL vocabulary under its ``http`` IRIs and the ``https``
#: spellings the ADL Total Learning Architecture (TLA) profile writes; cmi5's ``abandoned``, ``waived`` and
#: ``satisfied`` (w3id ADL IRIs); TLA's ``registered``. A session verb (launched, initialized, terminated,
#: abandoned) says the learner started and did not, by itself, finish: ``in_progress``. ``satisfied`` is
#: read by :data:`SATISFIED_STATUS`.
COMPLETION_VERBS: dict[str, str] = {
    **{ADL_VERBS + w: s for w, s in _ADL_WORDS.items()},
    **{ADL_VERBS.replace("http://", "https://") + w: s for w, s in _ADL_WORDS.items()},
    _W3ID_ADL + "waived": "exempt",
    _W3ID_ADL + "abandoned": "in_progress",
    "https://w3id.org/xapi/tla/verbs/registered": "enrolled",
}
SATISFIED = _W3ID_ADL + "satisfied"
#: ``satisfied``: in a cmi5 statement the LMS says the learner met the criteria of a block or course
#: (``completed``); in the TLA profile it means the criteria were met by means other than completing the
#: activity (``exempt``, credited but not trained).
SATISFIED_STATUS = {True: "completed", False: "exempt"}
_WITH_DATE = frozenset({"completed", "passed", "failed", "exempt"})
#: Verbs whose cmi5 statements must carry ``result.duration`` (cmi5 specification, 9.5.4.1).
_CMI5_TIMED = frozenset(v for v, s in COMPLETION_VERBS.items()
                        if s in ("completed", "passed", "failed") and "adlnet.gov" in v)
_EXTRAS = (
    "statement_id",
    "actor",
    "verb",
    "activity_id",
    "registration",
    "timestamp",
    "stored",
    "success",
    "completion",
    "duration",
    "score_scaled",
    "score_raw",
    "score_min",
    "score_max",
    "cmi5",
)


@dataclass(frozen=True, repr=False, eq=False)
class XapiTables:
    """What :func:`read_xapi` read.

    Attributes
    ----------
    completions, assessments : Table
        Canonical tables (kept rows, ``.rejected`` with reasons). Their ``rows_read`` count the statements
        routed to them; a passed/failed statement with a score is routed to both.
    unmatched : DataFrame
        Actor identities not in the crosswalk (or without a usable identifier): ``identity``,
        ``statements``, ``example_statement``; most frequent first. Their statements are in ``.rejected``.
    counts : dict
        Statements by fate: ``read``, ``malformed``, ``duplicate`` (an id again with the same content, read
        once), ``conflicting`` (every statement of an id used with different contents, none read),
        ``voiding``, ``voided``, ``other_verb``, ``routed``; ``read`` equals the sum of the others.
    other_verbs : Series
        Statements per verb IRI that no table uses.
    malformed : DataFrame
        ``source_row``, ``reason`` of statements that are not usable xAPI (no verb, not an object).
    checkpoint : str or None
        Where the next incremental LRS pull starts: the largest ``stored`` seen, but never past the LRS's
        ``X-Experience-API-Consistent-Through`` time. Pass it as ``since=`` and join the two reads with
        :meth:`merge`.
    source : str
        File, ``"<statements>"`` or the LRS endpoint (query values shown as ``***``).
    duplicates : DataFrame
        The ledger of repeated statement ids (compared without regard to case): ``source_row``,
        ``statement_id``, ``same_as_row``, ``verdict`` (``"identical"``: read once; ``"conflicting"``: not
        read) and ``reason``.
    """

    completions: Table
    assessments: Table
    unmatched: pd.DataFrame
    counts: dict[str, int]
    other_verbs: pd.Series
    malformed: pd.DataFrame
    checkpoint: str | None
    source: str
    notes: tuple[str, ...] = field(default=())
    duplicates: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(LEDGER_COLUMNS)))

    def merge(self, later: XapiTables) -> XapiTables:
        """This read followed by ``later``, as one read of both sets of statements.

        For incremental LRS pulls: ``x = read_xapi(lrs)``, later ``x = x.merge(read_xapi(lrs,
        since=x.checkpoint))``. A voiding statement in the later read removes the statement it voids from
        this one; a statement read twice (the checkpoint stops short of the LRS's consistent-through time,
        so some are pulled again) is read once; the same id with different content in the two reads is a
        conflict; attempts are numbered over both. Returns a new :class:`XapiTables` equal to reading the
        concatenated statements at once (the later read's ``source_row`` values follow this read's
        last), with the later checkpoint. Both reads keep their statements for this, and must have been
        read with the same options.

        Raises
        ------
        ValueError
            ``later`` was read with other options (``ids``, ``programs``, ``program_from``, ``kinds``,
            ``errors``, ``cmi5``), or either read was not made by :func:`read_xapi`.
        """
        mine, theirs = getattr(self, "_state", None), getattr(later, "_state", None)
        if mine is None or theirs is None:
            raise ValueError("merge() joins two results of read_xapi(); one of them was built another way.")
        if mine["options"] != theirs["options"]:
            diff = sorted(k for k in mine["options"] if mine["options"][k] != theirs["options"][k])
            raise ValueError(
                f"The two reads used different {', '.join(diff)}; read both with the same options to merge."
            )
        offset = max((line for line, _ in mine["pairs"]), default=0)
        pairs = mine["pairs"] + [(line + offset, s) for line, s in theirs["pairs"]]
        source = self.source if later.source == self.source else f"{self.source} + {later.source}"
        checkpoint = later.checkpoint if later.checkpoint is not None else self.checkpoint
        return _build(pairs, source, checkpoint, mine["notes"] + theirs["notes"], mine["options"])

    def summary(self) -> str:
        """A short text report of what was read, kept, rejected and why."""
        c = self.counts
        lines = [
            f"xAPI statements from {self.source}: {c['read']} read",
            f"  routed to tables: {c['routed']}; voided: {c['voided']} (+ {c['voiding']} voiding "
            f"statements); other verbs: {c['other_verb']}; duplicates read once: {c['duplicate']}; "
            f"conflicting ids (not read): {c['conflicting']}; malformed: {c['malformed']}",
            "  " + self.completions.summary().replace("\n", "\n  "),
            "  " + self.assessments.summary().replace("\n", "\n  "),
        ]
        if len(self.unmatched):
            ex = ", ".join(self.unmatched["identity"].head(3))
            lines.append(
                f"  unmatched identities: {len(self.unmatched)} ({int(self.unmatched['statements'].sum())}"
                f" statements), e.g. {ex}"
            )
        if self.checkpoint:
            lines.append(f"  checkpoint (last stored): {self.checkpoint}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(self.summary())}</pre>"

    def __repr__(self) -> str:
        return (
            f"<XapiTables from {self.source}: {self.counts['read']} statements; completions "
            f"{self.completions.n_kept} kept / {self.completions.n_rejected} rejected; assessments "
            f"{self.assessments.n_kept} kept / {self.assessments.n_rejected} rejected; "
            f"{len(self.unmatched)} unmatched identities>"
        )


# ------------------------------------------------------------------------------------------------ loading
class _Builder:
    """Accumulates the raw rows and problems of one table."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.lines: list[int] = []
        self.problems: list[Problem] = []

    def add(self, line: int, row: dict[str, Any], problems: list[tuple[str | None, Any, str, str]]) -> None:
        pos = len(self.rows)
        self.rows.append(row)
        self.lines.append(line)
        self.problems += [
            (pos, col, None if v is None else str(v), reason, check) for col, v, reason, check in problems
        ]


def _flatten(
    pairs: list[tuple[int, Any]],
    crosswalk: ActorCrosswalk | None,
    *,
    programs: Mapping[str, str],
    program_from: str,
    kinds: Mapping[str, str],
    cmi5_all: bool = False,
) -> dict[str, Any]:
    counts = Counter(
        {k: 0 for k in ("malformed", "duplicate", "conflicting", "voiding", "voided", "other_verb", "routed")}
    )
    malformed: list[tuple[int, str]] = []
    usable: list[tuple[int, Mapping[str, Any]]] = []
    live: list[tuple[int, dict[str, Any]]] = []
    void_targets: dict[str, tuple[int, str]] = {}  # id as compared -> (row of the voiding statement, id)
    stored: list[str] = []
    for line, stmt in pairs:
        if isinstance(stmt, Bad) or not isinstance(stmt, Mapping):
            malformed.append(
                (line, stmt.reason if isinstance(stmt, Bad) else "a statement must be a JSON object")
            )
            continue
        verb = stmt.get("verb")
        if not isinstance(verb, Mapping) or not isinstance(verb.get("id"), str):
            malformed.append((line, "statement has no verb.id"))
            continue
        if isinstance(stmt.get("stored"), str):
            stored.append(stmt["stored"])
        usable.append((line, stmt))
    ids = sort_out(usable)
    counts["duplicate"], counts["conflicting"] = ids.duplicate, ids.conflicting
    for line, stmt in ids.unique:
        ref = stmt.get("object")
        is_ref = isinstance(ref, Mapping) and ref.get("objectType") == "StatementRef"
        if stmt["verb"]["id"] == VOIDED and is_ref and isinstance(ref, Mapping):
            counts["voiding"] += 1
            target = str(ref.get("id"))
            void_targets[target.strip().lower()] = (line, target)
            continue
        live.append((line, dict(stmt)))
    counts["malformed"] = len(malformed)
    found = set(ids.conflict_keys)

    comp, assess = _Builder(), _Builder()
    other: Counter[str] = Counter()
    unmatched: Counter[str] = Counter()
    example: dict[str, str] = {}
    for line, stmt in live:
        key = statement_key(stmt)
        if key is not None and key in void_targets:
            counts["voided"] += 1
            found.add(key)
            continue
        verb = stmt["verb"]["id"]
        cmi5 = cmi5_all or is_cmi5(stmt)
        status = SATISFIED_STATUS[cmi5] if verb == SATISFIED else COMPLETION_VERBS.get(verb)
        result: Mapping[str, Any] = stmt["result"] if isinstance(stmt.get("result"), Mapping) else {}
        has_score = isinstance(result.get("score"), Mapping) and bool(result["score"])
        to_assess = verb == SCORED or (status in ("passed", "failed") and has_score)
        if status is None and not to_assess:
            other[verb] += 1
            counts["other_verb"] += 1
            continue
        counts["routed"] += 1
        probs: list[tuple[str | None, Any, str, str]] = []
        actor = stmt.get("actor")
        ident = actor_identity(actor)
        shown = describe(ident) if ident else "(no identifier)"
        emp: str | None = None
        if isinstance(actor, Mapping) and actor.get("objectType") == "Group":
            shown = f"group {shown}" if ident else "(anonymous group)"
            probs.append(
                (
                    "actor",
                    shown,
                    "the actor is a Group (objectType 'Group'): a statement about a group cannot be "
                    "credited to one employee; record it for each member as an Agent",
                    "identity",
                )
            )
        elif ident is None:
            probs.append(
                (
                    "actor",
                    None,
                    "the actor has no mbox, mbox_sha1sum, openid or account (an anonymous agent "
                    "cannot be an employee)",
                    "identity",
                )
            )
        elif crosswalk is None:
            emp = ident[1]
        else:
            emp = crosswalk.lookup(ident)
            if emp is None:
                probs.append(
                    (
                        "actor",
                        shown,
                        f"actor {shown} is not in the identity crosswalk (ids=); add it "
                        "to map it to an employee id",
                        "identity",
                    )
                )
        if emp is None and not shown.startswith(("group ", "(anonymous group")):
            unmatched[shown] += 1
            example.setdefault(shown, str(stmt.get("id")))
        obj: Mapping[str, Any] = stmt["object"] if isinstance(stmt.get("object"), Mapping) else {}
        act = obj.get("id") if isinstance(obj.get("id"), str) else None
        if obj.get("objectType", "Activity") != "Activity" or act is None:
            probs.append(("activity_id", act, "the object is not an activity with an id", "object"))
        program = programs.get(act) if act else None
        if program is None:
            program = (activity_name(obj) if program_from == "name" else None) or act
        when = stmt.get("timestamp") if isinstance(stmt.get("timestamp"), str) else stmt.get("stored")
        duration = result.get("duration")
        hours = None
        if duration is not None:
            try:
                hours = duration_hours(duration)
            except ValueError as exc:
                probs.append(("duration", duration, f"result.duration: {exc}", "duration"))
        elif cmi5 and verb in _CMI5_TIMED:
            why = "its context category is cmi5" if is_cmi5(stmt) else "read with cmi5=True"
            probs.append(
                (
                    "duration",
                    None,
                    f"a cmi5 {status} statement must carry result.duration (cmi5 specification, 9.5.4.1 "
                    f"Duration) and this one has none ({why}); add the time spent, e.g. 'PT25M'",
                    "missing",
                )
            )
        sc, score_probs = scores(result, cmi5)
        probs += score_probs
        extras = {
            "statement_id": stmt.get("id"),
            "actor": shown,
            "verb": verb,
            "activity_id": act,
            "registration": (stmt.get("context") or {}).get("registration")
            if isinstance(stmt.get("context"), Mapping)
            else None,
            "timestamp": stmt.get("timestamp"),
            "stored": stmt.get("stored"),
            "success": result.get("success"),
            "completion": result.get("completion"),
            "duration": duration,
            "score_scaled": sc["scaled"],
            "score_raw": sc["raw"],
            "score_min": sc["min"],
            "score_max": sc["max"],
            "cmi5": cmi5,
        }
        lo = sc["min"] if sc["min"] is not None else 0.0
        if status is not None:
            pct = None
            if sc["scaled"] is not None:
                pct = sc["scaled"] * 100
            elif sc["raw"] is not None and sc["max"] is not None and sc["max"] > lo:
                pct = 100 * (sc["raw"] - lo) / (sc["max"] - lo)
            elif sc["raw"] is not None:
                pct = sc["raw"]
            row = {
                "employee_id": emp if emp is not None else shown,
                "program": program,
                "status": status,
                "completed_at": when if status in _WITH_DATE else None,
                "hours": hours,
                "score": pct,
                **extras,
            }
            comp.add(line, row, probs)
        if to_assess:
            aprobs = list(probs)
            if sc["raw"] is not None:
                score, top = sc["raw"] - lo, (sc["max"] - lo if sc["max"] is not None else None)
            elif sc["scaled"] is not None:
                score, top = sc["scaled"] * 100, 100.0
            else:
                score, top = None, None
                aprobs.append(
                    (
                        "score_raw",
                        None,
                        f"a {verb.rsplit('/', 1)[-1]} statement needs "
                        "result.score (raw or scaled) to be an assessment",
                        "missing",
                    )
                )
            kind = kinds.get(act or "", kinds.get(program or "", "post"))
            row = {
                "employee_id": emp if emp is not None else shown,
                "program": program,
                "kind": kind,
                "score": score,
                "max_score": top,
                "taken_at": when,
                **extras,
            }
            assess.add(line, row, aprobs)
    return {
        "completions": comp,
        "assessments": assess,
        "counts": dict(counts),
        "other": other,
        "malformed": malformed,
        "unmatched": unmatched,
        "example": example,
        "stored": stored,
        "ledger": ids.frame(),
        "pending": [v for k, v in void_targets.items() if k not in found],
    }


# ------------------------------------------------------------------------------------------------ tables
def _latest(stamps: list[str]) -> str | None:
    if not stamps:
        return None
    parsed = pd.to_datetime(pd.Series(stamps), utc=True, errors="coerce", format="ISO8601")
    if parsed.notna().any():
        return stamps[int(parsed.to_numpy().argmax())]
    return max(stamps)


#: Statements keep xAPI's own score and date rules (a scaled score may be negative), so of the
#: row rules of the tables read from exports only the completion date one applies.
_SCHEMAS = {"completions": COMPLETIONS.with_rules(TRAINED_HAS_DATE), "assessments": ASSESSMENTS.with_rules()}


def _table(b: _Builder, kind: str, source: str, errors: str, notes: list[str]) -> Table:
    schema = _SCHEMAS[kind]
    canon = (
        ["employee_id", "program", "status", "completed_at", "hours", "score", "attempt"]
        if kind == "completions"
        else ["employee_id", "program", "kind", "score", "max_score", "taken_at", "attempt"]
    )
    frame = pd.DataFrame(b.rows, columns=canon + list(_EXTRAS), dtype=object)
    if len(frame):
        # attempt = order of the statement among the same person's statements on the same activity
        when = pd.to_datetime(
            frame["timestamp"].where(frame["timestamp"].notna(), frame["stored"]),
            utc=True,
            errors="coerce",
            format="ISO8601",
        )
        order = pd.DataFrame({"e": frame["employee_id"], "a": frame["activity_id"].fillna(""), "t": when})
        order = order.sort_values(["e", "a", "t"], kind="stable", na_position="last")
        frame["attempt"] = (order.groupby(["e", "a"], sort=False).cumcount() + 1).reindex(frame.index)
    raw = RawSource(frame, np.asarray(b.lines, dtype=np.int64), source, [], tuple(notes))
    match = ColumnMatch(canonical={c: c for c in canon}, extras={x: x for x in _EXTRAS})
    ctx = Context(source=source, status_map=DEFAULT_STATUS_MAP, category_maps={"kind": DEFAULT_KIND_MAP})

    def status_raw(raw_frame: pd.DataFrame, parsed: dict[str, pd.Series], headers: Mapping[str, str]) -> None:
        parsed["status_raw"] = pd.Series(
            raw_frame["verb"].to_numpy(dtype=object), index=raw_frame.index, dtype="str"
        )

    return _engine.read(raw, schema, ctx, errors=errors, match=match, row_check=lambda *_: list(b.problems),
                        derived=status_raw if kind == "completions" else None)


def read_xapi(
    source: Any,
    *,
    ids: Any = None,
    programs: Mapping[str, str] | None = None,
    program_from: Literal["name", "id"] = "name",
    kinds: Mapping[str, str] | None = None,
    errors: Literal["quarantine", "raise"] = "quarantine",
    since: Any = None,
    until: Any = None,
    verb: str | None = None,
    activity: str | None = None,
    agent: Any = None,
    cmi5: bool = False,
) -> XapiTables:
    """Read xAPI statements into canonical completions and assessments tables.

    Parameters
    ----------
    source : path, list of statements, or LRS
        A ``.json`` file (an array of statements, an LRS ``StatementResult`` or one statement), a ``.jsonl``
        / ``.ndjson`` file (one statement per line), a list of statement dicts, or an
        :class:`~impactlab.io.lrs.LRS` to pull from.
    ids : mapping, DataFrame, Table or path, optional
        The identity crosswalk from actor identifiers to roster employee ids
        (:func:`impactlab.io.xapi_ids.build_crosswalk`). Statements of actors it does not know are
        rejected with check ``"identity"`` and listed in ``.unmatched`` (a
        :class:`~impactlab.errors.DataQualityWarning` says how many). Without it, ``employee_id`` is the
        actor's own identifier (account name, e-mail, SHA-1 or openid).
    programs : mapping, optional
        ``{activity id: programme name}``, winning over the activity's own name.
    program_from : {"name", "id"}
        Programme from the activity's ``definition.name`` (English first; the id when absent) or its id.
    kinds : mapping, optional
        ``{activity id or programme: "pre" | "post" | "delayed"}`` for assessment rows (default ``"post"``).
    errors : {"quarantine", "raise"}
        As for the file readers: keep good rows and reject bad ones with reasons, or raise one
        :class:`~impactlab.errors.DataError` listing every problem.
    since, until, verb, activity, agent
        LRS filters (see :meth:`impactlab.io.lrs.LRS.pull`); only with an LRS source. ``since`` takes the
        previous result's ``checkpoint`` for an incremental pull; join the two reads with
        :meth:`XapiTables.merge`.
    cmi5 : bool
        Hold every statement to the cmi5 rules, not only those whose context category says cmi5:
        ``result.score.scaled`` in 0..1, and ``result.duration`` present on completed, passed and failed
        statements (cmi5 specification, 9.5.4.1 "Duration"); a statement breaking them is rejected with
        the reason.

    Returns
    -------
    XapiTables

    Raises
    ------
    LRSError
        The LRS pull could not finish (nothing partial is returned).
    DataError
        With ``errors="raise"`` when any statement is unusable; for an invalid JSON file; for a crosswalk
        mapping one identifier onto two employees.

    Notes
    -----
    Statement ids are UUIDs and are compared without regard to case, for duplicates and void targets
    alike. Voided statements (xAPI 1.0.3, Part Two, 2.3.2 "Voided") are removed together with the voiding
    statement; a voiding statement whose target is not in the read is named in the notes, and
    :meth:`XapiTables.merge` applies it to an earlier read. A statement repeating an id with the same
    content (Part Two, 2.3.1 comparison) is read once; statements sharing an id with different content
    are none of them read (a :class:`~impactlab.errors.DataQualityWarning` says so); both kinds are in
    ``.duplicates`` with the reason. A statement whose actor is a Group is rejected with check
    ``"identity"``. The accounting identity ``counts["read"] == malformed + duplicate + conflicting +
    voiding + voided + other_verb + routed`` always holds, and each table keeps
    ``rows_read == kept + rejected``.

    Examples
    --------
    >>> stmt = {"id": "6d0f2c5e-0000-4000-8000-000000000001",
    ...         "actor": {"account": {"homePage": "https://lms.example.com", "name": "lms7"}},
    ...         "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
    ...         "object": {"id": "https://lms.example.com/course/negotiation",
    ...                    "definition": {"name": {"en-US": "Negotiation"}}},
    ...         "result": {"score": {"raw": 42, "max": 50}, "duration": "PT1H30M"},
    ...         "timestamp": "2024-03-01T09:30:00Z"}
    >>> x = read_xapi([stmt], ids={"lms7": "E007"})
    >>> x.completions.frame[["employee_id", "program", "status", "hours", "score"]].values.tolist()
    [['E007', 'Negotiation', 'passed', 1.5, 84.0]]
    >>> x.assessments.frame[["employee_id", "kind", "score", "max_score"]].values.tolist()
    [['E007', 'post', 42.0, 50.0]]
    """
    check_option("errors", errors, ("quarantine", "raise"))
    check_option("program_from", program_from, ("name", "id"))
    check_option("cmi5", cmi5, (True, False))
    kinds = dict(kinds or {})
    bad = {k: v for k, v in kinds.items() if v not in ASSESSMENT_KINDS}
    if bad:
        raise ValueError(
            f"The 'kinds' parameter must map onto {', '.join(ASSESSMENT_KINDS)}. Got {bad!r} instead."
        )
    crosswalk = build_crosswalk(ids) if ids is not None else None
    pairs, name, checkpoint, notes = load_statements(
        source, {"since": since, "until": until, "verb": verb, "activity": activity, "agent": agent}
    )
    options = {"ids": crosswalk, "programs": dict(programs or {}), "program_from": program_from,
               "kinds": kinds, "errors": errors, "cmi5": cmi5}
    return _build(pairs, name, checkpoint, tuple(notes), options)


def _build(pairs: list[tuple[int, Any]], name: str, checkpoint: str | None, base_notes: tuple[str, ...],
           options: dict[str, Any]) -> XapiTables:
    """The tables of ``pairs`` (read_xapi after loading, and merge)."""
    crosswalk = options["ids"]
    errors = options["errors"]
    flat = _flatten(pairs, crosswalk, programs=options["programs"], program_from=options["program_from"],
                    kinds=options["kinds"], cmi5_all=options["cmi5"])
    notes = list(base_notes)
    if crosswalk is None:
        notes.append("no identity crosswalk: employee_id is the actor's own identifier")
    if flat["pending"]:
        row, target = flat["pending"][0]
        notes.append(
            f"{len(flat['pending'])} voiding statement(s) name statements not in this read (e.g. row {row} "
            f"voids {target}); earlier.merge(this) removes them from an earlier read"
        )
    comp = _table(flat["completions"], "completions", name, errors, notes)
    assess = _table(flat["assessments"], "assessments", name, errors, notes)
    counts = {"read": len(pairs), **flat["counts"]}
    unmatched = pd.DataFrame(
        [(k, n, flat["example"][k]) for k, n in flat["unmatched"].most_common()],
        columns=["identity", "statements", "example_statement"],
    ).astype({"statements": "int64"})
    if crosswalk is not None and len(unmatched):
        ex = ", ".join(unmatched["identity"].head(3))
        warnings.warn(
            f"{int(unmatched['statements'].sum())} xAPI statement(s) from {len(unmatched)} actor identit"
            f"{'y' if len(unmatched) == 1 else 'ies'} not in the crosswalk were rejected (e.g. {ex}); "
            "see .unmatched and add them to ids=",
            DataQualityWarning,
            stacklevel=3,
        )
    ledger = flat["ledger"]
    if counts["conflicting"]:
        clash = ledger[ledger["verdict"] == "conflicting"]
        rows = ", ".join(map(str, clash["source_row"].head(2)))
        warnings.warn(
            f"{counts['conflicting']} xAPI statement(s) share an id with a statement of different content "
            f"(e.g. {clash['statement_id'].iloc[0]} at rows {rows}); none of them was read. See .duplicates",
            DataQualityWarning,
            stacklevel=3,
        )
    other = pd.Series(dict(flat["other"].most_common()), name="statements", dtype="int64")
    other.index.name = "verb"
    malformed = pd.DataFrame(flat["malformed"], columns=["source_row", "reason"]).astype(
        {"source_row": "int64"}
    )
    checkpoint = checkpoint if checkpoint is not None else _latest(flat["stored"])
    out = XapiTables(completions=comp, assessments=assess, unmatched=unmatched, counts=counts,
                     other_verbs=other, malformed=malformed, checkpoint=checkpoint, source=name,
                     notes=tuple(notes), duplicates=ledger)
    object.__setattr__(out, "_state", {"pairs": list(pairs), "notes": base_notes, "options": options})
    return out
