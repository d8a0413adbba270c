"""Visibility: search attributes (typed, registered per namespace) and the list query language."""
