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
from datetime import date, timedelta
from fractions import Fraction

from dateutil.relativedelta import relativedelta

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
    if not isinstance(interval, int) or interval < 1:
        raise ValueError("the interval must be a whole number of at least 1")


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
    if rule_type == "weekly":
        return day - timedelta(days=day.weekday())
    if rule_type == "monthly":
        return day.replace(day=1)
    if rule_type == "quarterly":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if rule_type == "yearly":
        return date(day.year, 1, 1)
    return day


def _full_period(anchor, rule_type, interval, k):
    start = shift(anchor, rule_type, interval, k)
    return start, shift(anchor, rule_type, interval, k + 1) - timedelta(days=1)


def iter_periods(
    date_start,
    rule_type,
    interval=1,
    date_end=None,
    align_calendar=False,
    prorate=False,
):
    """Yield the schedule's periods in order, endlessly when there is no end date.

    With ``align_calendar``, periods follow the calendar and a first period that
    starts off a boundary is a partial one, prorated by days covered / days in the
    full calendar period. With ``prorate``, a ``date_end`` inside a period makes
    that last period partial, prorated the same way; without it the last period is
    a full one.
    """
    _check(rule_type, interval)
    if date_end and date_end < date_start:
        raise ValueError("the end date is before the start date")
    anchor = date_start
    if align_calendar:
        # the first period is the calendar one holding date_start, cut short
        anchor = calendar_boundary(date_start, rule_type)
    k = 0
    while True:
        full_start, full_end = _full_period(anchor, rule_type, interval, k)
        start = max(full_start, date_start)
        if date_end and start > date_end:
            return
        end = full_end
        if date_end and prorate and date_end < full_end:
            end = date_end
        full_days = (full_end - full_start).days + 1
        covered = (end - start).days + 1
        factor = Fraction(covered, full_days)
        yield Period(k, start, end, factor)
        k += 1


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


def period_at(day, date_start, rule_type, interval=1, date_end=None, **kw):
    """The period holding ``day``, or None when ``day`` is outside the schedule."""
    if day < date_start or (date_end and day > date_end):
        return None
    for period in iter_periods(date_start, rule_type, interval, date_end, **kw):
        if period.date_start > day:
            return None
        if period.date_end >= day:
            return period
    return None
