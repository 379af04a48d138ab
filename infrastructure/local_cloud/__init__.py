"""The embedded local cloud: moto holding the stack deployed from template.yaml, with each Lambda's
real handler run in-process and the state machine's real ASL on moto's interpreter."""
