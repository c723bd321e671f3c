# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models

from odoo.addons.base.models.ir_actions_report import _wkhtml

# crm_billing's layouts print the letterhead in the body and draw nothing in the page
# header: the top margin only keeps the text off the paper's edge (mm).
LAYOUT_MARGIN_TOP = 12
LAYOUT_MARGIN_BOTTOM = 20
# a wkhtmltopdf without patched Qt draws no page footer either
LAYOUT_MARGIN_BOTTOM_NO_FOOTER = 14


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

    def _get_rendering_context(self, report, docids, data):
        values = super()._get_rendering_context(report, docids, data)
        # read by crm_billing's layouts: without page footers, the footer text
        # closes the document instead
        values["crm_billing_page_footer"] = _wkhtml().is_patched_qt
        return values

    def _prepare_html(self, html, report_model=False):
        """Documents wearing a crm_billing layout get page margins that fit it, unless
        the document sets its own."""
        result = super()._prepare_html(html, report_model=report_model)
        marker = "o_crm_billing_layout"
        if not result or marker.encode() not in (
            html if isinstance(html, bytes) else str(html).encode()
        ):
            return result
        bodies, res_ids, header, footer, paperformat_args = result
        margins = {
            "data-report-margin-top": LAYOUT_MARGIN_TOP,
            "data-report-header-spacing": 0,
            "data-report-margin-bottom": (
                LAYOUT_MARGIN_BOTTOM if _wkhtml().is_patched_qt else LAYOUT_MARGIN_BOTTOM_NO_FOOTER
            ),
        }
        return bodies, res_ids, header, footer, {**margins, **paperformat_args}
