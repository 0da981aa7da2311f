"""Persistence: models, engine and sessions, the write service with its audit chain, and reads."""
