"""Every indicator, computed from plain rows: no database here (``data`` reads the rows).

Definitions (the README's "Indicators" section says the same in prose). A *period* is whole
days in the company's zone; an event counts in the period its instant falls in.

- **Volumes** per day, week (starting Monday) or month: *filed* (filing), *authorized* (a
  head's authorization), *rejected by the head*, *rejected by the director* (at the
  rejection), *returned* (each return for information), *approved* (the final approval, a
  second one over budget included), *completed* (the service finished: the ticket's finish,
  before the requester confirms) and *cancelled* (at the withdrawal).
- **Rates** over the decisions taken in the period: authorization = authorized / the heads'
  decisions; rejection by the head = its complement; approval, return and rejection by the
  director = each / the directors' decisions (approvals + rejections + returns); reopen =
  requests finished in the period that were ever reopened / requests finished in the period.
- **Lead times** of each stage that ended in the period (``stages.STAGES``), in business
  minutes: the median and the 90th percentile (linear between the closest ranks).
- **Backlog** now: open requests by status and by age since filing (calendar days).
- **Overdue** now: open tickets past their planned end (the company's today), and open
  requests with a breached SLA clock. **On time**: tickets finished in the period on or
  before their planned end (the company's date) / tickets finished in the period.
- **SLA** per kind: clocks stopped in the period met or breached; compliance = met / both;
  mean overrun = the mean business time past the target of the breached ones; plus open
  clocks breached now.
- **Workload** per worker: open tickets now and the hours estimated for them; hours spent on
  tickets finished in the period; utilization = hours spent / the working hours of the period
  in the company's business calendar (none: 8 hours a weekday).
- **Cost** of the requests whose ticket finished in the period: estimated vs actual cost,
  materials, estimated hours vs hours spent; by category and by requesting unit (each sums to
  the total).
- **Satisfaction** of the requests whose service was closed in the period (confirmed by the
  requester, or closed automatically unconfirmed: the ticket's closing): ``completed`` counts
  them, ``rated`` those with a rating (the response rate is rated / completed), the mean
  rating, the distribution 1-5 and the latest comments.
"""

import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, make_dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cached_property
from operator import attrgetter
from zoneinfo import ZoneInfo

from app.indicators.stages import STAGES

VOLUMES = ("filed", "authorized", "rejected_by_head", "rejected_by_director", "returned",
           "approved", "completed", "cancelled")
RATES = ("authorization", "rejection_by_head", "approval", "return", "rejection_by_director",
         "reopen")
BANDS = (("lt_1d", 1), ("1_3d", 3), ("3_7d", 7), ("7_30d", 30), ("gt_30d", None))
SLA_KINDS = ("decision", "start", "resolution")
MONEY = ("estimated_cost", "actual_cost", "materials_cost", "estimated_hours", "hours_spent")
OPEN_STATUSES = ("pending_authorization", "pending_evaluation", "returned",
                 "pending_assignment", "in_service")
COMMENTS = 10
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Period:
    start: date
    end: date           # included
    start_at: datetime  # UTC
    end_at: datetime    # UTC, excluded
    zone: ZoneInfo
    bucket: str         # day, week or month

    @cached_property
    def start_ts(self) -> float:
        return self.start_at.timestamp()

    @cached_property
    def end_ts(self) -> float:
        return self.end_at.timestamp()

    @cached_property
    def keys(self) -> list[date]:
        return buckets(self)

    @cached_property
    def edges(self) -> list[float]:
        """The instant each bucket starts (its first local midnight), for ``bisect``."""
        return [datetime.combine(day, time(), self.zone).timestamp() for day in self.keys]

    def holds(self, instant) -> bool:
        ts = _ts(instant)
        return ts is not None and self.start_ts <= ts < self.end_ts

    def local_date(self, instant) -> date:
        return datetime.fromtimestamp(_ts(instant), self.zone).date()

    def bucket_index(self, ts: float) -> int:
        return max(bisect_right(self.edges, ts) - 1, 0)


def _iso(value) -> str:
    return datetime.fromtimestamp(_ts(value), UTC).isoformat()


def _ts(value) -> float | None:
    """Epoch seconds of an instant, whether a datetime or already seconds (``data`` selects
    seconds: converting thousands of datetimes costs more than the figures)."""
    if value is None or value.__class__ is float:
        return value
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


# What ``data.facts`` selects per request, in its order (``data.FACT_COLUMNS``)
FACT_FIELDS = (
    "id", "number", "status", "created_at", "closed_at", "authorized_at", "approved_at",
    "assigned_at", "started_at", "finished_at", "confirmed_at", "category_id", "unit_id",
    "estimated_cost", "estimated_hours", "rating", "rating_comment", "rejected_by", "reopens",
    *(f"{stage}_minutes" for stage in STAGES),
    "worker_id", "planned_end", "hours_spent", "materials_cost", "actual_cost",
)
INSTANT_FIELDS = ("created_at", "closed_at", "authorized_at", "approved_at", "assigned_at",
                  "started_at", "finished_at", "confirmed_at")
Fact = make_dataclass("Fact", FACT_FIELDS, slots=True)
_INSTANT_AT = tuple(FACT_FIELDS.index(name) for name in INSTANT_FIELDS)


def prepare(rows) -> list:
    """The rows as ``Fact``s with every instant in epoch seconds: what each section reads
    (sections call it too, so they take any rows with those attributes; it returns prepared
    rows as they are). Rows in ``FACT_FIELDS``' order (``data.facts``) convert by position."""
    if isinstance(rows, list) and (not rows or isinstance(rows[0], Fact)):
        return rows
    prepared = []
    for r in rows:
        # a database row (``Row``: a sequence) by position, anything else by name
        values = list(r) if isinstance(r, (tuple, Sequence)) else \
            [getattr(r, f) for f in FACT_FIELDS]
        for i in _INSTANT_AT:
            value = values[i]
            if value is not None and value.__class__ is not float:
                values[i] = _ts(value)
        prepared.append(Fact(*values))
    return prepared


# --- shared pieces ---------------------------------------------------------------------------

def bucket_of(day: date, bucket: str) -> date:
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    return day


def buckets(period: Period) -> list[date]:
    """The first day of each bucket that touches the period, in order."""
    found, day = [], bucket_of(period.start, period.bucket)
    while day <= period.end:
        found.append(day)
        if period.bucket == "day":
            day += timedelta(days=1)
        elif period.bucket == "week":
            day += timedelta(days=7)
        else:
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return found


def quantile(sorted_values: list, q: float) -> float | None:
    """The ``q`` quantile of ascending values, linear between the closest ranks (the median of
    [1, 2, 3, 4] is 2.5; its 90th percentile 3.7)."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    fraction = position - low
    value = sorted_values[low] + (sorted_values[high] - sorted_values[low]) * fraction
    return round(float(value), 2)


def rate(numerator: int, denominator: int) -> dict:
    value = round(numerator / denominator, 4) if denominator else None
    return {"value": value, "numerator": numerator, "denominator": denominator}


def money(value: Decimal) -> str:
    return str(value.quantize(ZERO))


def _dec(value) -> Decimal:
    if value is None:
        return ZERO
    return value if isinstance(value, Decimal) else Decimal(str(value))


# --- the sections ----------------------------------------------------------------------------

def _counted(rows, returns, period: Period):
    """(volume name, bucket index) of every event in the period (the module's definitions,
    written out: this loop runs over every request of a year)."""
    rows = prepare(rows)
    low, high = period.start_ts, period.end_ts
    edges, found = period.edges, []
    add = found.append

    def bucket(ts):
        return max(bisect_right(edges, ts) - 1, 0)

    for r in rows:
        ts = r.created_at
        if low <= ts < high:
            add(("filed", bucket(ts)))
        ts = r.authorized_at
        if ts is not None and low <= ts < high:
            add(("rejected_by_head" if r.rejected_by == "unit_head" else "authorized",
                 bucket(ts)))
        closed = r.closed_at
        if closed is not None and low <= closed < high:
            if r.rejected_by == "service_director":
                add(("rejected_by_director", bucket(closed)))
            if r.status == "cancelled":
                add(("cancelled", bucket(closed)))
        ts = r.approved_at
        if ts is not None and low <= ts < high:
            add(("approved", bucket(ts)))
        ts = r.finished_at
        if ts is not None and low <= ts < high:
            add(("completed", bucket(ts)))
        for at in returns.get(r.id, ()):
            ts = _ts(at)
            if low <= ts < high:
                add(("returned", bucket(ts)))
    return found


def counted(rows, returns: dict, period: Period) -> list[tuple[str, int]]:
    """Every event in the period as (volume name, bucket index): what ``volumes`` and
    ``rates`` both count (pass it to each to count once)."""
    return _counted(rows, returns, period)


def volumes(rows, returns: dict, period: Period, events: list | None = None) -> dict:
    keys = period.keys
    series = {name: [0] * len(keys) for name in VOLUMES}
    for name, index in events if events is not None else _counted(rows, returns, period):
        series[name][index] += 1
    return {"buckets": [d.isoformat() for d in keys], "series": series,
            "totals": {name: sum(values) for name, values in series.items()}}


def rates(rows, returns: dict, period: Period, events: list | None = None) -> dict:
    totals: Counter = Counter(name for name, _ in (
        events if events is not None else _counted(rows, returns, period)))
    rows = prepare(rows)
    low, high = period.start_ts, period.end_ts
    finished = reopened = 0
    for r in rows:
        ts = r.finished_at
        if ts is not None and low <= ts < high:
            finished += 1
            reopened += 1 if (r.reopens or 0) > 0 else 0
    heads = totals["authorized"] + totals["rejected_by_head"]
    directors = totals["approved"] + totals["rejected_by_director"] + totals["returned"]
    return {
        "authorization": rate(totals["authorized"], heads),
        "rejection_by_head": rate(totals["rejected_by_head"], heads),
        "approval": rate(totals["approved"], directors),
        "return": rate(totals["returned"], directors),
        "rejection_by_director": rate(totals["rejected_by_director"], directors),
        "reopen": rate(reopened, finished),
    }


def _stage_end(r, stage: str) -> datetime | None:
    if stage == "authorization":
        return r.authorized_at
    if stage == "evaluation":
        return r.approved_at or (r.closed_at if r.rejected_by == "service_director" else None)
    if stage == "assignment":
        return r.assigned_at
    if stage == "start":
        return r.started_at
    if stage in ("work", "resolution"):
        return r.finished_at
    return r.confirmed_at


def lead_times(rows, period: Period) -> list[dict]:
    rows = prepare(rows)
    low, high = period.start_ts, period.end_ts
    values: dict[str, list] = {stage: [] for stage in STAGES}
    # each stage counts at the instant it ended (``_stage_end``), written out: this loop runs
    # over every request of a year
    ends = (("authorization", "authorization_minutes", "authorized_at"),
            ("assignment", "assignment_minutes", "assigned_at"),
            ("start", "start_minutes", "started_at"),
            ("work", "work_minutes", "finished_at"),
            ("confirmation", "confirmation_minutes", "confirmed_at"),
            ("resolution", "resolution_minutes", "finished_at"))
    getters = [(values[stage], attrgetter(minutes, end)) for stage, minutes, end in ends]
    evaluation = values["evaluation"]
    for r in rows:
        for found, get in getters:
            minutes, end = get(r)
            if minutes is not None and end is not None:
                if low <= end < high:
                    found.append(minutes)
        if r.evaluation_minutes is not None:
            end = _stage_end(r, "evaluation")
            if end is not None and low <= end < high:
                evaluation.append(r.evaluation_minutes)
    found = []
    for stage in STAGES:
        ordered = sorted(values[stage])
        found.append({"stage": stage, "count": len(ordered),
                      "median_minutes": quantile(ordered, 0.5),
                      "p90_minutes": quantile(ordered, 0.9)})
    return found


def band_of(age: timedelta) -> str:
    days = age.total_seconds() / 86400
    for name, limit in BANDS:
        if limit is None or days < limit:
            return name
    return BANDS[-1][0]


def backlog(open_rows, now: datetime) -> dict:
    """``open_rows``: (status, created_at) of the open requests now."""
    matrix = {status: {name: 0 for name, _ in BANDS} for status in OPEN_STATUSES}
    for status, created_at in open_rows:
        matrix.setdefault(status, {name: 0 for name, _ in BANDS})
        matrix[status][band_of(now - created_at)] += 1
    by_status = {status: sum(bands.values()) for status, bands in matrix.items()}
    by_band = {name: sum(matrix[s][name] for s in matrix) for name, _ in BANDS}
    return {"total": sum(by_status.values()), "by_status": by_status,
            "bands": [name for name, _ in BANDS], "by_band": by_band, "matrix": matrix}


def on_time(rows, period: Period) -> dict:
    rows = prepare(rows)
    low, high = period.start_ts, period.end_ts
    deadlines: dict[date, float] = {}  # planned end -> the midnight that ends it, locally
    finished = punctual = 0
    for r in rows:
        if r.planned_end is None or r.finished_at is None:
            continue
        ts = r.finished_at
        if low <= ts < high:
            finished += 1
            deadline = deadlines.get(r.planned_end)
            if deadline is None:
                deadline = deadlines[r.planned_end] = datetime.combine(
                    r.planned_end + timedelta(days=1), time(), period.zone).timestamp()
            if ts < deadline:
                punctual += 1
    return {"finished": finished, "on_time": punctual, **_value(punctual, finished)}


def _value(numerator: int, denominator: int) -> dict:
    return {"value": round(numerator / denominator, 4) if denominator else None}


def sla(clocks, open_breached: dict[str, int]) -> list[dict]:
    """``clocks``: (kind, state, minutes, elapsed_seconds) of the clocks stopped in the period
    (met or breached)."""
    found = []
    for kind in SLA_KINDS:
        mine = [c for c in clocks if c[0] == kind]
        met = sum(1 for c in mine if c[1] == "met")
        breached = [c for c in mine if c[1] == "breached"]
        overruns = [max(0.0, c[3] / 60 - c[2]) for c in breached]
        found.append({
            "kind": kind, "met": met, "breached": len(breached),
            "compliance": round(met / (met + len(breached)), 4) if met + len(breached) else None,
            "mean_overrun_minutes": round(sum(overruns) / len(overruns), 2) if overruns else None,
            "open_breached": open_breached.get(kind, 0),
        })
    return found


def workload(rows, open_tickets, names: dict[int, str], available_hours: Decimal,
             period: Period) -> list[dict]:
    """``open_tickets``: (worker_id, estimated_hours) of the open tickets now; ``rows``: the
    request rows (hours spent on tickets finished in the period)."""
    people: dict[int, dict] = {}

    def person(worker_id):
        return people.setdefault(worker_id, {"open": 0, "planned": ZERO, "spent": ZERO})

    for worker_id, hours in open_tickets:
        entry = person(worker_id)
        entry["open"] += 1
        entry["planned"] += _dec(hours)
    low, high = period.start_ts, period.end_ts
    for r in prepare(rows):
        if r.worker_id is not None and r.finished_at is not None \
                and low <= r.finished_at < high:
            person(r.worker_id)["spent"] += _dec(r.hours_spent)
    found = []
    for worker_id, entry in people.items():
        found.append({
            "worker_id": worker_id, "name": names.get(worker_id, ""),
            "open_tickets": entry["open"], "hours_planned": money(entry["planned"]),
            "hours_spent": money(entry["spent"]), "available_hours": money(available_hours),
            "utilization": round(float(entry["spent"] / available_hours), 4)
            if available_hours > 0 else None,
        })
    found.sort(key=lambda w: (-w["open_tickets"], w["name"], w["worker_id"]))
    return found


def _sums() -> list:
    return [0, ZERO, ZERO, ZERO, ZERO, ZERO]  # requests, then MONEY's order


def _merge(into: list, sums: list) -> None:
    for i, value in enumerate(sums):
        into[i] += value


def _shown(sums: list) -> dict:
    return {"requests": sums[0], **{key: money(sums[i + 1]) for i, key in enumerate(MONEY)}}


def cost(rows, period: Period, category_names: dict[int, str],
         unit_names: dict[int, str]) -> dict:
    rows = prepare(rows)
    low, high = period.start_ts, period.end_ts
    pairs: dict[tuple, list] = {}  # summed once per (category, unit), then rolled up
    for r in rows:
        ts = r.finished_at
        if ts is None or not low <= ts < high:
            continue
        sums = pairs.get((r.category_id, r.unit_id))
        if sums is None:
            sums = pairs[(r.category_id, r.unit_id)] = _sums()
        sums[0] += 1
        sums[1] += _dec(r.estimated_cost)
        sums[2] += _dec(r.actual_cost)
        sums[3] += _dec(r.materials_cost)
        sums[4] += _dec(r.estimated_hours)
        sums[5] += _dec(r.hours_spent)
    total, by_category, by_unit = _sums(), {}, {}
    for (category_id, unit_id), sums in pairs.items():
        _merge(total, sums)
        _merge(by_category.setdefault(category_id, _sums()), sums)
        _merge(by_unit.setdefault(unit_id, _sums()), sums)

    def listed(groups, names):
        return sorted(({"id": key, "name": names.get(key, ""), **_shown(sums)}
                       for key, sums in groups.items()), key=lambda g: (g["name"], g["id"]))

    return {"total": _shown(total), "by_category": listed(by_category, category_names),
            "by_unit": listed(by_unit, unit_names)}


def satisfaction(rows, period: Period) -> dict:
    rows = prepare(rows)
    low, high = period.start_ts, period.end_ts
    completed = [r for r in rows
                 if r.confirmed_at is not None and low <= r.confirmed_at < high]
    rated = [r for r in completed if r.rating is not None]
    distribution = Counter(r.rating for r in rated)
    commented = sorted((r for r in rated if (r.rating_comment or "").strip()),
                       key=lambda r: (r.confirmed_at, r.id), reverse=True)[:COMMENTS]
    return {
        "completed": len(completed), "rated": len(rated),
        "response_rate": round(len(rated) / len(completed), 4) if completed else None,
        "mean": round(sum(r.rating for r in rated) / len(rated), 2) if rated else None,
        "distribution": {str(n): distribution.get(n, 0) for n in range(1, 6)},
        "comments": [{"request_id": r.id, "number": r.number, "rating": r.rating,
                      "comment": r.rating_comment, "at": _iso(r.confirmed_at)}
                     for r in commented],
    }
