"""Handing out pairs to assessors, and recording their judgments: the judging page's hot path.

A pair is *open* while fewer people hold it than it needs (``claimed < needed``), where ``claimed``
counts the people's graded judgments of it plus the live leases on it. Showing a pair to an assessor
leases it to them (:data:`babelir.judge.project.LEASE_SECONDS`), so that two assessors at once never
get the same pair that needs one judgment; a pair of the agreement sample (``needed = 2``) goes to
two different people. A lease not judged in time returns the pair to the pool.

Each call is one SQLite transaction; what returns has been committed. Order: the open pair of the
assessor's languages with the lowest ``position`` (queries in topic order, and within a query the
pool's priority order) that they have not judged yet. Skipped and "can't judge" pairs stay open for
others.
"""

from __future__ import annotations

import time

from babelir.errors import BabelirError
from babelir.judge.project import LEASE_SECONDS, Project


class PairNotYours(BabelirError):
    """A judgment of a pair the assessor does not hold: shown to someone else since, judged already
    by them (another tab), or outside their languages (the HTTP API answers 409)."""


def next_pair(project: Project, assessor: str, now: float | None = None) -> dict | None:
    """The pair ``assessor`` should judge now (their current lease when they hold one: a reload
    continues where they stopped), leased to them; None when nothing is left for them.

    Returns :meth:`Project.pair_details` plus ``shown`` (when first shown, Unix seconds)."""
    now = time.time() if now is None else now
    with project.transaction() as db:
        _, langs = project.require_assessor(assessor)
        _expire(db, now)
        held = db.execute("SELECT pair_id, shown FROM leases WHERE assessor = ?", (assessor,)).fetchone()
        if held is not None:
            db.execute("UPDATE leases SET until = ? WHERE assessor = ?", (now + LEASE_SECONDS, assessor))
            pair_id, shown = held
        else:
            pair_id = _first_open(db, assessor, langs)
            if pair_id is None:
                return None
            shown = now
            db.execute("INSERT INTO leases VALUES (?, ?, ?, ?)", (assessor, pair_id, now, now + LEASE_SECONDS))
            db.execute("UPDATE pairs SET claimed = claimed + 1 WHERE id = ?", (pair_id,))
    details = project.pair_details(pair_id)
    details["shown"] = shown
    return details


def record(project: Project, assessor: str, pair_id: int, grade: int | None, status: str = "judged",
           seconds: float | None = None, now: float | None = None) -> int:
    """Record ``assessor``'s judgment of ``pair_id``: a grade on the project's scale (status
    ``judged``), or ``skip`` / ``cant`` (can't judge) without a grade. Judging a pair again replaces
    the assessor's earlier judgment of it. Returns the judgment's id once committed.

    ``seconds`` is the time spent (default: since the pair was shown to them).
    The pair must be the one shown to the assessor (their lease), or one whose lease ran out that is
    still open, in their languages and not judged by them: else :class:`PairNotYours` (a stale tab
    or a script must not take another assessor's pair, nor judge one pair twice unseen; undo first).
    Raises a BabelirError for an unknown assessor or pair, a grade outside the scale, a grade given
    with skip / can't judge, or a model assessor (models record through :func:`record_model`)."""
    now = time.time() if now is None else now
    if status not in ("judged", "skip", "cant"):
        raise BabelirError(f"unknown status {status!r} (judged, skip or cant)")
    if status == "judged":
        project.check_grade(grade)
    elif grade is not None:
        raise BabelirError(f"a {status} takes no grade")
    if seconds is not None and not (0 <= seconds < 86400 * 7):
        raise BabelirError(f"seconds spent must be between 0 and a week, not {seconds!r}")
    with project.transaction() as db:
        kind, _ = project.require_assessor(assessor)
        if kind != "person":
            raise BabelirError(f"{assessor!r} is a model assessor; people judge here")
        if db.execute("SELECT 1 FROM pairs WHERE id = ?", (pair_id,)).fetchone() is None:
            raise BabelirError(f"no pair {pair_id} in this project")
        lease = db.execute("SELECT pair_id, shown FROM leases WHERE assessor = ?", (assessor,)).fetchone()
        if lease is not None and lease[0] == pair_id:
            db.execute("DELETE FROM leases WHERE assessor = ?", (assessor,))
            db.execute("UPDATE pairs SET claimed = claimed - 1 WHERE id = ?", (pair_id,))
            if seconds is None:
                seconds = max(0.0, now - lease[1])
        else:
            _check_unheld(db, project, assessor, pair_id)
        cursor = db.execute("INSERT INTO judgments(pair_id, assessor, grade, status, at, seconds) VALUES (?,?,?,?,?,?)",
                            (pair_id, assessor, grade if status == "judged" else None, status, now, seconds or 0.0))
        if status == "judged":
            db.execute("UPDATE pairs SET claimed = claimed + 1 WHERE id = ?", (pair_id,))
        return cursor.lastrowid


def undo(project: Project, assessor: str, now: float | None = None) -> dict | None:
    """Withdraw ``assessor``'s latest judgment and give its pair back to them (leased, shown again);
    None when they have nothing to undo."""
    now = time.time() if now is None else now
    with project.transaction() as db:
        project.require_assessor(assessor)
        row = db.execute("SELECT id, pair_id FROM judgments WHERE assessor = ? AND undone = 0 ORDER BY id DESC LIMIT 1",
                         (assessor,)).fetchone()
        if row is None:
            return None
        pair_id = row[1]
        _withdraw(db, assessor, pair_id)
        _release(db, assessor)
        db.execute("INSERT INTO leases VALUES (?, ?, ?, ?)", (assessor, pair_id, now, now + LEASE_SECONDS))
        db.execute("UPDATE pairs SET claimed = claimed + 1 WHERE id = ?", (pair_id,))
    details = project.pair_details(pair_id)
    details["shown"] = now
    return details


def record_model(project: Project, model: str, labels: list[tuple[int, int]], now: float | None = None) -> int:
    """Store a model assessor's grades ``[(pair id, grade)]`` (replacing its earlier ones of those
    pairs), in one transaction; model judgments never count towards a pair's need for people.
    Returns how many were stored."""
    now = time.time() if now is None else now
    for _, grade in labels:
        project.check_grade(grade)
    name = project.ensure_model_assessor(model)
    with project.transaction() as db:
        for pair_id, grade in labels:
            db.execute("UPDATE judgments SET undone = 1 WHERE pair_id = ? AND assessor = ? AND undone = 0",
                       (pair_id, name))
            db.execute("INSERT INTO judgments(pair_id, assessor, grade, status, at, seconds) VALUES (?,?,?,?,?,0)",
                       (pair_id, name, grade, "judged", now))
    return len(labels)


def _check_unheld(db, project: Project, assessor: str, pair_id: int) -> None:
    """Refuse a judgment of a pair ``assessor`` does not hold, unless it is open to them."""
    if db.execute("SELECT 1 FROM judgments WHERE pair_id = ? AND assessor = ? AND undone = 0",
                  (pair_id, assessor)).fetchone():
        raise PairNotYours(f"you have judged pair {pair_id} already (in another tab?); undo it to change it")
    lang, claimed, needed = db.execute("SELECT lang, claimed, needed FROM pairs WHERE id = ?", (pair_id,)).fetchone()
    _, langs = project.require_assessor(assessor)
    if langs != "*" and lang not in langs.split(","):
        raise PairNotYours(f"pair {pair_id} is in {lang}, not in your languages ({langs})")
    if claimed >= needed:
        raise PairNotYours(f"pair {pair_id} is no longer yours (shown to another assessor, or judged by as many "
                           "as it needs); take the next pair")


def _first_open(db, assessor: str, langs: str) -> int | None:
    """The open pair of the lowest position among ``langs`` ('*': all) not yet judged by ``assessor``."""
    not_mine = ("AND NOT EXISTS (SELECT 1 FROM judgments j WHERE j.pair_id = p.id AND j.assessor = ? "
                "AND j.undone = 0)")
    if langs == "*":  # the languages with open pairs, one seek of pairs_open each (DISTINCT scans every pair)
        seek = "SELECT lang FROM pairs INDEXED BY pairs_open WHERE claimed < needed AND lang {} ? ORDER BY lang LIMIT 1"
        codes, row = [], db.execute(seek.format(">="), ("",)).fetchone()
        while row is not None:
            codes.append(row[0])
            row = db.execute(seek.format(">"), (row[0],)).fetchone()
    else:
        codes = langs.split(",")
    best = None
    for code in codes:  # one walk of the partial index (lang, position) per language
        row = db.execute(f"SELECT p.id, p.position FROM pairs p INDEXED BY pairs_open WHERE p.lang = ? "
                         f"AND p.claimed < p.needed {not_mine} ORDER BY p.position LIMIT 1", (code, assessor)).fetchone()
        if row is not None and (best is None or row[1] < best[1]):
            best = row
    return None if best is None else best[0]


def _withdraw(db, assessor: str, pair_id: int) -> None:
    """Mark ``assessor``'s live judgment of ``pair_id`` undone (a graded one frees its claim)."""
    row = db.execute("SELECT id, status FROM judgments WHERE pair_id = ? AND assessor = ? AND undone = 0",
                     (pair_id, assessor)).fetchone()
    if row is not None:
        db.execute("UPDATE judgments SET undone = 1 WHERE id = ?", (row[0],))
        if row[1] == "judged":
            db.execute("UPDATE pairs SET claimed = claimed - 1 WHERE id = ?", (pair_id,))


def _release(db, assessor: str) -> None:
    row = db.execute("SELECT pair_id FROM leases WHERE assessor = ?", (assessor,)).fetchone()
    if row is not None:
        db.execute("DELETE FROM leases WHERE assessor = ?", (assessor,))
        db.execute("UPDATE pairs SET claimed = claimed - 1 WHERE id = ?", (row[0],))


def _expire(db, now: float) -> None:
    """Return the pairs of leases that ran out to the pool."""
    for assessor, pair_id in db.execute("SELECT assessor, pair_id FROM leases WHERE until < ?", (now,)).fetchall():
        db.execute("DELETE FROM leases WHERE assessor = ?", (assessor,))
        db.execute("UPDATE pairs SET claimed = claimed - 1 WHERE id = ?", (pair_id,))


def progress(project: Project) -> dict:
    """``{"languages": {lang: {"pairs", "complete", "judgments"}}, "assessors": {name: {status: n,
    "seconds": mean seconds per judgment}}}``: pairs to judge (in the budget), pairs judged by as many
    people as they need, and judgments made."""
    db = project.db
    languages = {}
    for lang, pairs, complete in db.execute(
            "SELECT p.lang, count(*), sum(CASE WHEN (SELECT count(*) FROM judgments j JOIN assessors a ON "
            "a.name = j.assessor WHERE j.pair_id = p.id AND j.undone = 0 AND j.status = 'judged' AND "
            "a.kind = 'person') >= p.needed THEN 1 ELSE 0 END) FROM pairs p WHERE p.needed > 0 GROUP BY p.lang"):
        languages[lang] = {"pairs": pairs, "complete": complete or 0, "judgments": 0}
    assessors: dict[str, dict] = {}
    for name, lang, status, count, seconds in db.execute(
            "SELECT j.assessor, p.lang, j.status, count(*), sum(j.seconds) FROM judgments j JOIN pairs p ON "
            "p.id = j.pair_id JOIN assessors a ON a.name = j.assessor WHERE j.undone = 0 AND a.kind = 'person' "
            "GROUP BY j.assessor, p.lang, j.status"):
        entry = assessors.setdefault(name, {"judged": 0, "skip": 0, "cant": 0, "seconds": 0.0})
        entry[status] += count
        entry["seconds"] += seconds or 0.0
        if status == "judged" and lang in languages:
            languages[lang]["judgments"] += count
    for entry in assessors.values():
        done = entry["judged"] + entry["skip"] + entry["cant"]
        entry["seconds"] = entry["seconds"] / done if done else 0.0
    return {"languages": languages, "assessors": assessors}
