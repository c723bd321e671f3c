# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests.common import BaseCase, tagged

from ..models import billing_usage_math as um

TIERS = [(1000.0, 0.10), (None, 0.05), (5000.0, 0.08)]  # any order


@tagged("post_install", "-at_install")
class TestUsageMath(BaseCase):
    """Pricing of metered quantities, on its own: no ORM, no database."""

    def test_volume_prices_the_whole_quantity_at_the_tier_reached(self):
        self.assertEqual(um.price_quantity(1000, "volume", tiers=TIERS)[0].price, 0.10)
        self.assertEqual(um.price_quantity(1000.5, "volume", tiers=TIERS)[0].price, 0.08)
        self.assertAlmostEqual(um.amount(um.price_quantity(6234, "volume", tiers=TIERS)), 311.70)

    def test_graduated_prices_each_slice_at_its_tier(self):
        slices = um.price_quantity(6234, "graduated", tiers=TIERS)
        self.assertEqual([s.quantity for s in slices], [1000, 4000, 1234])
        self.assertEqual([s.price for s in slices], [0.10, 0.08, 0.05])
        self.assertAlmostEqual(um.amount(slices), 481.70)

    def test_late_quantity_on_top_of_billed_units(self):
        slices = um.price_quantity(300, "graduated", tiers=TIERS, offset=900)
        self.assertEqual([(s.quantity, s.price) for s in slices], [(100, 0.10), (200, 0.08)])
        # volume: the tier the period reaches with the late units, for the late units
        self.assertEqual(um.price_quantity(300, "volume", tiers=TIERS, offset=900)[0].price, 0.08)

    def test_allowance_and_zero(self):
        self.assertEqual(um.billable_quantity(450, 50), 400)
        self.assertEqual(um.billable_quantity(30, 50), 0)
        self.assertEqual(um.price_quantity(0, "graduated", tiers=TIERS)[0].quantity, 0)

    def test_invalid_tiers(self):
        for tiers in (
            [],
            [(10.0, 1.0)],
            [(None, 1.0), (None, 2.0)],
            [(5.0, 1.0), (5.0, 2.0), (None, 1.0)],
        ):
            with self.assertRaises(ValueError):
                um.check_tiers(tiers)
