"""The face library in the stack: enroll, list, correct and forget people while it runs
(``tools faces``)."""
