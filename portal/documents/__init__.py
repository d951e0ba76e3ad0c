"""Printable one-stop-shop documents (receipt, supplement request, refusal slip, process-control slip)."""
