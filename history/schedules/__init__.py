"""Schedules: when they fire (``spec``), where they live and what one tick decides."""
