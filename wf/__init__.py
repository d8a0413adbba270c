"""wf's wire contract: Python modules generated from ``proto/wf/v1`` by ``make proto``. Do not edit."""
