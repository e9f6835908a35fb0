"""Applying fix-its: edits, rounds to a fixed point, rollback, atomic writes."""
