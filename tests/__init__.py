# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from . import (
    test_concurrency,
    test_insights,
    test_period_math,
    test_portal,
    test_reminders,
    test_sales_flow,
    test_schedule,
    test_tour_sales,
)
