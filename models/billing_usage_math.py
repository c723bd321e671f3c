# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Pricing of metered quantities, with no ORM.

A metered line bills the quantity used in a period, less its allowance, at a unit
price or through tiers. A tier is ``(up_to, price)``; ``up_to`` is the last unit the
tier covers (inclusive), ``None`` for the last, unlimited tier.

- *volume*: the whole quantity is priced at the tier it reaches;
- *graduated*: each slice of the quantity is priced at its own tier.

``offset`` prices a quantity that comes on top of units already billed in the same
period (late usage): graduated slices start after them, and volume looks at the
tier the period reaches with them, without repricing what was already billed.
"""

from collections import namedtuple

#: one priced part of a quantity: how many units, at which price, and which units
#: of the period they are (``lower`` excluded, ``upper`` included; ``upper`` None
#: for an unlimited tier); ``tier`` is the 1-based tier number (0 for unit pricing)
Slice = namedtuple("Slice", "quantity price lower upper tier")

PRICING_MODES = ("unit", "volume", "graduated")


def sort_tiers(tiers):
    """Tiers in order of their limits, the unlimited one last."""
    return sorted(tiers, key=lambda tier: (tier[0] is None, tier[0] or 0.0))


def check_tiers(tiers):
    """Raise ValueError unless ``tiers`` ascend to one last, unlimited tier."""
    if not tiers:
        raise ValueError("no tier")
    ordered = sort_tiers(tiers)
    limits = [up_to for up_to, _price in ordered]
    if limits[-1] is not None or None in limits[:-1]:
        raise ValueError("exactly one tier, the last, has no limit")
    bounded = limits[:-1]
    if any(up_to <= 0 for up_to in bounded) or len(set(bounded)) != len(bounded):
        raise ValueError("tier limits are positive and distinct")
    if any(price < 0 for _up_to, price in ordered):
        raise ValueError("tier prices are not negative")


def billable_quantity(used, included):
    """What is billed of ``used`` units once the allowance ``included`` is spent."""
    return max(used - max(included, 0.0), 0.0)


def price_quantity(quantity, mode, price_unit=0.0, tiers=(), offset=0.0):
    """Split ``quantity`` billable units, coming after ``offset`` units already
    billed in the period, into priced slices; their amounts add up to the price."""
    quantity = max(quantity, 0.0)
    offset = max(offset, 0.0)
    if mode == "unit":
        return [Slice(quantity, price_unit, offset, offset + quantity, 0)]
    if mode not in PRICING_MODES:
        raise ValueError(f"unknown pricing {mode!r}")
    ordered = sort_tiers(tiers)
    check_tiers(ordered)
    if mode == "volume":
        total = offset + quantity
        lower = 0.0
        for number, (up_to, price) in enumerate(ordered, start=1):
            if up_to is None or total <= up_to:
                return [Slice(quantity, price, lower, up_to, number)]
            lower = up_to
    slices = []
    lower = 0.0
    end = offset + quantity
    for number, (up_to, price) in enumerate(ordered, start=1):
        start = max(lower, offset)
        stop = end if up_to is None else min(up_to, end)
        if stop > start:
            slices.append(Slice(stop - start, price, lower, up_to, number))
        if up_to is None or end <= up_to:
            break
        lower = up_to
    if not slices:
        # nothing billable: one empty slice, in the tier the period stands in
        return price_quantity(0.0, "volume", tiers=ordered, offset=offset)
    return slices


def amount(slices):
    """Unrounded price of priced slices."""
    return sum(part.quantity * part.price for part in slices)
