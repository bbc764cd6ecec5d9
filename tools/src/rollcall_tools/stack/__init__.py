"""The AWS stack: names, settings, resource specs (ensure/delete) and the plan engine."""
