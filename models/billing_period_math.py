# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Period arithmetic for billing schedules, with no ORM.

Every period is computed from the schedule's anchor (its start date, or the first
calendar boundary when the schedule follows the calendar), never from the previous
period: period *k* starts at ``anchor + k * interval * unit``. Month ends therefore
never drift (31 Jan, 28/29 Feb, 31 Mar, 30 Apr, ...). A period ends the day before
the next one starts.
"""

from collections import namedtuple
from datetime import timedelta
from fractions import Fraction

from dateutil.relativedelta import relativedelta

from odoo.tools import SQL, date_utils

RULE_TYPES = ("daily", "weekly", "monthly", "quarterly", "yearly")

#: the rule types as a selection, for every field that chooses one
RULE_TYPE_SELECTION = [
    ("daily", "Days"),
    ("weekly", "Weeks"),
    ("monthly", "Months"),
    ("quarterly", "Quarters"),
    ("yearly", "Years"),
]

#: length of one rule step, as (months, days)
_RULE_STEP = {
    "daily": (0, 1),
    "weekly": (0, 7),
    "monthly": (1, 0),
    "quarterly": (3, 0),
    "yearly": (12, 0),
}

#: the calendar unit that each rule follows with ``align_calendar``
_CALENDAR_UNIT = {
    "weekly": "week",
    "monthly": "month",
    "quarterly": "quarter",
    "yearly": "year",
}

#: how many of each rule's steps make a month, for monthly recurring revenue
MONTHLY_FACTOR = {
    "daily": Fraction(365, 12),
    "weekly": Fraction(365, 7 * 12),
    "monthly": Fraction(1),
    "quarterly": Fraction(1, 3),
    "yearly": Fraction(1, 12),
}

#: a billing period: first and last day covered, and the share of a full period
#: that it covers (1 for a full period, less for a prorated one)
Period = namedtuple("Period", "index date_start date_end factor")


def _check(rule_type, interval):
    if rule_type not in _RULE_STEP:
        raise ValueError(f"unknown rule type {rule_type!r}")
    if not is_valid_interval(interval):
        raise ValueError("the interval must be a whole number of at least 1")


def is_valid_interval(interval):
    """Whether invoices can recur every ``interval`` periods: a whole number of at
    least 1. The one definition of the rule, for the schedule and its wizards."""
    return isinstance(interval, int) and interval >= 1


def ends_before_start(date_start, date_end):
    """Whether ``date_end`` is set and falls before ``date_start`` (an empty end date
    means open-ended). The one definition of the rule, for the schedule and its wizards."""
    return bool(date_start and date_end and date_end < date_start)


def shift(anchor, rule_type, interval, k):
    """Return ``anchor + k * interval * unit`` (k may be negative)."""
    _check(rule_type, interval)
    months, days = _RULE_STEP[rule_type]
    if months:
        return anchor + relativedelta(months=months * interval * k)
    return anchor + timedelta(days=days * interval * k)


def calendar_boundary(day, rule_type):
    """The calendar boundary at or before ``day`` for the rule: Monday for weeks,
    the 1st of the month, of the quarter or of the year."""
    unit = _CALENDAR_UNIT.get(rule_type)
    return date_utils.start_of(day, unit) if unit else day


def anchor(date_start, rule_type, align_calendar=False):
    """Where period 0 would start if it were a full period: the start date, or the
    calendar boundary before it when the schedule follows the calendar."""
    return calendar_boundary(date_start, rule_type) if align_calendar else date_start


def index_at(anchor, rule_type, interval, day):
    """Index *k* of the full period holding ``day``:
    ``shift(anchor, k) <= day < shift(anchor, k + 1)``, found by arithmetic, so
    that it costs the same for a schedule started today or years ago (k is
    negative before the anchor)."""
    _check(rule_type, interval)
    months, days = _RULE_STEP[rule_type]
    if days:
        return (day - anchor).days // (days * interval)
    step = months * interval
    k = ((day.year - anchor.year) * 12 + day.month - anchor.month) // step
    # period k starts in day's month or before; when in day's month, its day of
    # the month (the anchor's, clamped to the month's length) may still be after day
    if shift(anchor, rule_type, interval, k) > day:
        k -= 1
    return k


def _full_period(anchor, rule_type, interval, k):
    start = shift(anchor, rule_type, interval, k)
    return start, shift(anchor, rule_type, interval, k + 1) - timedelta(days=1)


def _period(first, k, date_start, rule_type, interval, date_end, prorate):
    """Period ``k`` of a schedule whose period 0 would start on ``first``, or None
    when it starts after ``date_end``."""
    full_start, full_end = _full_period(first, rule_type, interval, k)
    start = max(full_start, date_start)
    if date_end and start > date_end:
        return None
    end = full_end
    if date_end and prorate and date_end < full_end:
        end = date_end
    full_days = (full_end - full_start).days + 1
    covered = (end - start).days + 1
    factor = Fraction(covered, full_days)
    return Period(k, start, end, factor)


def iter_periods(
    date_start,
    rule_type,
    interval=1,
    date_end=None,
    align_calendar=False,
    prorate=False,
    start=0,
):
    """Yield the schedule's periods in order, from period ``start`` on, endlessly
    when there is no end date.

    With ``align_calendar``, periods follow the calendar and a first period that
    starts off a boundary is a partial one, prorated by days covered / days in the
    full calendar period. With ``prorate``, a ``date_end`` inside a period makes
    that last period partial, prorated the same way; without it the last period is
    a full one. Each period is computed from the anchor, so starting at period
    ``start`` costs the same as starting at period 0.
    """
    _check(rule_type, interval)
    if ends_before_start(date_start, date_end):
        raise ValueError("the end date is before the start date")
    # with align_calendar the first period is the calendar one holding date_start,
    # cut short
    first = anchor(date_start, rule_type, align_calendar)
    k = max(start, 0)
    while True:
        period = _period(first, k, date_start, rule_type, interval, date_end, prorate)
        if period is None:
            return
        yield period
        k += 1


def index_of_start(
    day, date_start, rule_type, interval=1, date_end=None, align_calendar=False, **kw
):
    """Index of the period starting on ``day``, or None when no period starts then."""
    if day < date_start or (date_end and day > date_end):
        return None
    first = anchor(date_start, rule_type, align_calendar)
    k = index_at(first, rule_type, interval, day)
    if max(shift(first, rule_type, interval, k), date_start) != day:
        return None
    return k


def periods_between(date_start, rule_type, interval=1, date_end=None, until=None, **kw):
    """The periods whose start is on or before ``until`` (all of them when the
    schedule has an end date and ``until`` is None)."""
    if until is None and date_end is None:
        raise ValueError("an open-ended schedule needs a date to stop at")
    result = []
    for period in iter_periods(date_start, rule_type, interval, date_end, **kw):
        if until is not None and period.date_start > until:
            break
        result.append(period)
    return result


def invoice_date(period, invoicing_mode):
    """Prepaid periods are invoiced on their first day, postpaid on their last."""
    return period.date_start if invoicing_mode == "prepaid" else period.date_end


def monthly_factor(rule_type, interval):
    """How many times a month one period's amount recurs (for MRR)."""
    _check(rule_type, interval)
    return MONTHLY_FACTOR[rule_type] / interval


def monthly_factor_sql(rule_type_column, interval_column):
    """``monthly_factor`` as an SQL expression over the given columns (``SQL``
    objects), for the SQL-view reports: the same factors, written once."""
    cases = SQL(" ").join(
        SQL("WHEN %s THEN %s::numeric / %s", rule, factor.numerator, factor.denominator)
        for rule, factor in MONTHLY_FACTOR.items()
    )
    return SQL("(CASE %s %s END / %s)", rule_type_column, cases, interval_column)


def period_share(period_start, period_end, factor, day_from=None, day_to=None):
    """Share of a full period covered by the days ``day_from`` to ``day_to``
    (inclusive, clipped to the period ``period_start`` .. ``period_end``), as a
    Fraction: days covered / days in the full period. ``factor`` is the share of a
    full period that the period itself covers (1, or less for a prorated one), from
    which the full period's length is found. Changes and closings prorate with it,
    exactly as the periods themselves are prorated."""
    full_days = round(Fraction((period_end - period_start).days + 1) / Fraction(factor))
    first = max(day_from or period_start, period_start)
    last = min(day_to or period_end, period_end)
    if last < first or full_days <= 0:
        return Fraction(0)
    return Fraction((last - first).days + 1, full_days)


def period_at(
    day, date_start, rule_type, interval=1, date_end=None, align_calendar=False, prorate=False
):
    """The period holding ``day``, or None when ``day`` is outside the schedule;
    found by arithmetic, whatever the schedule's age."""
    if day < date_start or (date_end and day > date_end):
        return None
    _check(rule_type, interval)
    first = anchor(date_start, rule_type, align_calendar)
    k = index_at(first, rule_type, interval, day)
    period = _period(first, k, date_start, rule_type, interval, date_end, prorate)
    if period is None or not period.date_start <= day <= period.date_end:
        return None
    return period
