"""Training and measuring the triage model: ``make train-triage``, ``triage-eval``, ``triage-cv``."""
