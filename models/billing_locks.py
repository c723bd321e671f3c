# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Row locks that wait, for work that must see what another transaction commits.

Odoo's own ``lock_for_update`` / ``try_lock_for_update`` skip rows locked by
another transaction (``SKIP LOCKED``): right for claiming work in a cron, which is
how the runs share their batches. A user sending a reminder, printing a receipt or
a charge being sent must instead wait for whoever holds the rows (the run, a user
registering a payment), then read what was committed: this is that lock, written
once."""

from odoo.tools import SQL


def lock_rows(records, fnames=None):
    """Lock the rows of ``records`` until the end of the transaction, waiting for
    any transaction that holds them, then forget their cached ``fnames`` (all
    fields when None) so that what that transaction committed is read.

    Rows are locked in id order, so that two transactions locking overlapping sets
    cannot deadlock; ``FOR NO KEY UPDATE`` lets others keep referencing them."""
    if not records.ids:
        return
    records.env.flush_all()
    records.env.cr.execute(
        SQL(
            "SELECT id FROM %s WHERE id IN %s ORDER BY id FOR NO KEY UPDATE",
            SQL.identifier(records._table),
            tuple(records.ids),
        )
    )
    records.invalidate_recordset(fnames)
