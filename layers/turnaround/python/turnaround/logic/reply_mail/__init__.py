"""Reps work from email: signed per-case reply addresses, inbound replies checked and posted to X as a
DM or a summoned public reply, customers' DMs emailed into the case's thread, the conversation kept."""
