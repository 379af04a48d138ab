"""The complaint workflow: start one execution per case, run its tasks, write its emails."""
