"""Reliability and load for rollcall: the embedded stack under faults (``tools faults``),
under load (``tools soak``, with a saturation search), and the accounting that proves no clip
is lost or answered twice."""
