"""The embedded local stack: moto in server mode, the stack deployed into it, the local runner."""
