"""Signals other areas listen to (notifications, reminders) without the dossier code knowing about them.

Receivers run inside the dossier's transaction: they may add rows (an outbox of notifications) but must not
send anything or enqueue jobs themselves; that happens after the commit.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Sent for every timeline entry, with the entry as sender and `run` (the DossierRun) as keyword.
dossier_event = _signals.signal("dossier-event")
