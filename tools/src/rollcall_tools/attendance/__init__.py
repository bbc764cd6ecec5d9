"""Attendance: who was seen, from when to when, read from the sightings table the handler
writes (``tools attendance``)."""
