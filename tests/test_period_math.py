# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date, timedelta
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoo.tests.common import BaseCase, tagged

from ..models import billing_period_math as pm

RULES = st.sampled_from(pm.RULE_TYPES)
INTERVALS = st.integers(min_value=1, max_value=12)
DATES = st.dates(min_value=date(1999, 1, 1), max_value=date(2099, 12, 31))
SETTINGS = settings(
    max_examples=300,
    deadline=None,
    database=None,
    # a loaded CI machine makes generation slow; the property does not change
    suppress_health_check=[HealthCheck.too_slow],
)


def starts(periods):
    return [p.date_start for p in periods]


def walk(date_start, rule, interval, date_end=None, align_calendar=False, prorate=False):
    """The reference: every period walked from the first one, as the engine once
    found them (iter_periods from period 0, compared one by one)."""
    first = pm.calendar_boundary(date_start, rule) if align_calendar else date_start
    k = 0
    while True:
        full_start = pm.shift(first, rule, interval, k)
        full_end = pm.shift(first, rule, interval, k + 1) - timedelta(days=1)
        start = max(full_start, date_start)
        if date_end and start > date_end:
            return
        end = date_end if date_end and prorate and date_end < full_end else full_end
        yield pm.Period(
            k, start, end, Fraction((end - start).days + 1, (full_end - full_start).days + 1)
        )
        k += 1


@tagged("post_install", "-at_install")
class TestPeriodMath(BaseCase):
    """Period arithmetic, on its own: no ORM, no database."""

    def test_month_end_anchor_never_drifts(self):
        periods = pm.periods_between(date(2027, 1, 31), "monthly", until=date(2027, 6, 30))
        self.assertEqual(
            starts(periods),
            [
                date(2027, 1, 31),
                date(2027, 2, 28),
                date(2027, 3, 31),
                date(2027, 4, 30),
                date(2027, 5, 31),
                date(2027, 6, 30),
            ],
        )
        self.assertEqual(periods[0].date_end, date(2027, 2, 27))
        self.assertEqual(periods[1].date_end, date(2027, 3, 30))

    def test_leap_year(self):
        periods = pm.periods_between(date(2028, 1, 31), "monthly", until=date(2028, 3, 31))
        self.assertEqual(starts(periods), [date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31)])
        yearly = pm.periods_between(date(2028, 2, 29), "yearly", until=date(2032, 3, 1))
        self.assertEqual(
            starts(yearly),
            [
                date(2028, 2, 29),
                date(2029, 2, 28),
                date(2030, 2, 28),
                date(2031, 2, 28),
                date(2032, 2, 29),
            ],
        )

    def test_every_rule(self):
        start = date(2027, 3, 15)
        expected = {
            ("daily", 3): date(2027, 3, 18),
            ("weekly", 2): date(2027, 3, 29),
            ("monthly", 2): date(2027, 5, 15),
            ("quarterly", 1): date(2027, 6, 15),
            ("yearly", 1): date(2028, 3, 15),
        }
        for (rule, interval), second in expected.items():
            periods = pm.periods_between(start, rule, interval, until=second)
            self.assertEqual(starts(periods), [start, second], rule)
            self.assertEqual(periods[0].date_end, second - timedelta(days=1), rule)

    def test_calendar_alignment_prorates_first_period(self):
        periods = pm.periods_between(
            date(2027, 1, 15),
            "monthly",
            date_end=date(2027, 3, 10),
            align_calendar=True,
            prorate=True,
        )
        self.assertEqual(
            [(p.date_start, p.date_end, p.factor) for p in periods],
            [
                (date(2027, 1, 15), date(2027, 1, 31), Fraction(17, 31)),
                (date(2027, 2, 1), date(2027, 2, 28), Fraction(1)),
                (date(2027, 3, 1), date(2027, 3, 10), Fraction(10, 31)),
            ],
        )
        quarter = pm.periods_between(
            date(2027, 1, 15), "quarterly", until=date(2027, 4, 1), align_calendar=True
        )
        self.assertEqual(quarter[0].factor, Fraction(76, 90))
        self.assertEqual(quarter[1].date_start, date(2027, 4, 1))
        week = pm.periods_between(
            date(2027, 1, 14), "weekly", until=date(2027, 1, 18), align_calendar=True
        )
        # 14 January 2027 is a Thursday: Thursday to Sunday is 4 days of 7
        self.assertEqual(
            [(p.date_start, p.factor) for p in week],
            [(date(2027, 1, 14), Fraction(4, 7)), (date(2027, 1, 18), Fraction(1))],
        )

    def test_end_without_prorate_keeps_full_last_period(self):
        periods = pm.periods_between(date(2027, 1, 1), "monthly", date_end=date(2027, 3, 10))
        self.assertEqual(len(periods), 3)
        self.assertEqual(periods[-1].date_end, date(2027, 3, 31))
        self.assertEqual(periods[-1].factor, 1)

    def test_invoice_date(self):
        period = pm.Period(0, date(2027, 1, 1), date(2027, 1, 31), 1)
        self.assertEqual(pm.invoice_date(period, "prepaid"), date(2027, 1, 1))
        self.assertEqual(pm.invoice_date(period, "postpaid"), date(2027, 1, 31))

    def test_bad_input(self):
        with self.assertRaises(ValueError):
            pm.periods_between(date(2027, 1, 1), "monthly", 0, until=date(2027, 2, 1))
        with self.assertRaises(ValueError):
            pm.periods_between(date(2027, 1, 1), "fortnightly", until=date(2027, 2, 1))
        with self.assertRaises(ValueError):
            pm.periods_between(date(2027, 1, 2), "monthly", date_end=date(2027, 1, 1))

    def test_monthly_factor(self):
        self.assertEqual(pm.monthly_factor("yearly", 1), Fraction(1, 12))
        self.assertEqual(pm.monthly_factor("quarterly", 2), Fraction(1, 6))
        self.assertEqual(pm.monthly_factor("monthly", 3), Fraction(1, 3))

    @SETTINGS
    @given(
        start=DATES, rule=RULES, interval=INTERVALS, count=st.integers(1, 40), align=st.booleans()
    )
    def test_no_gap_no_overlap(self, start, rule, interval, count, align):
        periods = []
        for period in pm.iter_periods(start, rule, interval, align_calendar=align):
            periods.append(period)
            if len(periods) == count:
                break
        self.assertEqual(periods[0].date_start, start)
        for before, after in zip(periods, periods[1:]):
            self.assertEqual(before.date_end + timedelta(days=1), after.date_start)
            self.assertLessEqual(before.date_start, before.date_end)
        self.assertTrue(all(p.factor == 1 for p in periods[1:]))
        self.assertTrue(0 < periods[0].factor <= 1)

    @SETTINGS
    @given(start=DATES, rule=RULES, interval=INTERVALS, k=st.integers(0, 60))
    def test_follows_the_anchor(self, start, rule, interval, k):
        """Period k starts at start + k * interval units, whatever came before."""
        periods = list(zip(range(k + 1), pm.iter_periods(start, rule, interval)))
        self.assertEqual(periods[-1][1].date_start, pm.shift(start, rule, interval, k))
        if rule in ("monthly", "quarterly", "yearly"):
            # the day of the month is the anchor's, clamped to the month's length only
            day = periods[-1][1].date_start
            self.assertTrue(
                day.day == start.day or (day.day < start.day and (day + timedelta(days=1)).day == 1)
            )

    @SETTINGS
    @given(
        start=DATES,
        rule=RULES,
        interval=INTERVALS,
        length=st.integers(0, 800),
        align=st.booleans(),
        prorate=st.booleans(),
    )
    def test_end_date_is_covered_exactly(self, start, rule, interval, length, align, prorate):
        end = start + timedelta(days=length)
        periods = pm.periods_between(
            start, rule, interval, date_end=end, align_calendar=align, prorate=prorate
        )
        self.assertLessEqual(periods[-1].date_start, end)
        self.assertGreaterEqual(periods[-1].date_end, end)
        if prorate:
            self.assertEqual(periods[-1].date_end, end)
            covered = sum((p.date_end - p.date_start).days + 1 for p in periods)
            self.assertEqual(covered, length + 1)

    @SETTINGS
    @given(
        start=DATES,
        rule=RULES,
        interval=INTERVALS,
        offset=st.integers(0, 5000),
        length=st.one_of(st.none(), st.integers(0, 6000)),
        align=st.booleans(),
        prorate=st.booleans(),
    )
    def test_arithmetic_equals_the_walk(
        self, start, rule, interval, offset, length, align, prorate
    ):
        """Period k found by arithmetic (for the day, for a start, from an index) is
        the period the walk from the anchor reaches, month ends, calendar alignment,
        proration and intervals included."""
        end = start + timedelta(days=length) if length is not None else None
        kw = {"date_end": end, "align_calendar": align, "prorate": prorate}
        day = start + timedelta(days=offset)
        walked = None
        for period in walk(start, rule, interval, **kw):
            if period.date_start > day:
                break
            walked = period
        expected = walked if walked and walked.date_end >= day and (not end or day <= end) else None
        self.assertEqual(pm.period_at(day, start, rule, interval, **kw), expected)
        if walked:
            self.assertEqual(
                pm.index_of_start(walked.date_start, start, rule, interval, **kw), walked.index
            )
            following = list(
                zip(range(3), pm.iter_periods(start, rule, interval, start=walked.index, **kw))
            )
            reference = list(
                zip(
                    range(3),
                    (p for p in walk(start, rule, interval, **kw) if p.index >= walked.index),
                )
            )
            self.assertEqual(following, reference)
        if walked and walked.date_start != day:
            # a day inside a period is no period's start
            self.assertIsNone(pm.index_of_start(day, start, rule, interval, **kw))

    def test_arithmetic_month_ends(self):
        """A few month ends, spelled out: 31 January by month, 29 February by year."""
        for first, rule, interval, day, expected in [
            (date(2027, 1, 31), "monthly", 1, date(2027, 3, 30), date(2027, 2, 28)),
            (date(2027, 1, 31), "monthly", 1, date(2027, 3, 31), date(2027, 3, 31)),
            (date(2028, 1, 31), "monthly", 1, date(2028, 2, 29), date(2028, 2, 29)),
            (date(2028, 2, 29), "yearly", 1, date(2031, 2, 27), date(2030, 2, 28)),
            (date(2028, 2, 29), "yearly", 1, date(2032, 2, 29), date(2032, 2, 29)),
            (date(2027, 1, 31), "quarterly", 2, date(2027, 7, 30), date(2027, 1, 31)),
            (date(2017, 1, 1), "daily", 1, date(2027, 1, 1), date(2027, 1, 1)),
        ]:
            period = pm.period_at(day, first, rule, interval)
            self.assertEqual(period.date_start, expected, (first, rule, day))
