# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from . import test_period_math
from . import test_schedule
from . import test_portal
from . import test_reminders
from . import test_sales_flow
from . import test_insights
from . import test_tour_sales
from . import test_concurrency
from . import test_reports
from . import test_receipt_verify
from . import test_what_users_see
from . import test_charge
from . import test_charge_concurrency
from . import test_tour_charge
