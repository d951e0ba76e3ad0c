"""Incidents: a step whose procedure code (script, condition, timer, decision table) failed or went past its
time or memory budget. `services` turns the engine's error into a plain `StepFailed` and records incidents;
administrators list, retry and resolve them under /admin/incidents (portal/admin/views_incidents.py)."""
