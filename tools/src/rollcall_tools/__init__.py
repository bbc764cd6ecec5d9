"""rollcall_tools."""
