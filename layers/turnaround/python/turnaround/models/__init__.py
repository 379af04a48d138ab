"""Typed models: what is stored, what X sends, and the brand's playbook."""
