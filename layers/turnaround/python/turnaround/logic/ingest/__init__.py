"""Ingest: poll mentions and DMs from X, triage them, store each once."""
