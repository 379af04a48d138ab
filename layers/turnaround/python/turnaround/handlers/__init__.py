"""Composition root: builds the default collaborators the Lambda handlers call."""
