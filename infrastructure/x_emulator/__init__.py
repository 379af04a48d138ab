"""An X API v2 emulator: a real HTTP server on loopback that real tweepy talks to.

It keeps a small world (users, posts, DMs), serves the v2 endpoints Turnaround uses, and enforces
X's 2026 rules so tests catch violations: summoned replies only, one automated reply per interaction,
no duplicate text, no unsolicited DMs, no likes or quote-posts on self-serve, rate limits, pay-per-use
credits (402) and the monthly usage cap. Everything posted, DMed, retweeted and refused is recorded
for assertions, and faults can be injected per route.

Modules: server (lifecycle, dispatch, state, control routes), routes (the route table and handlers),
auth (OAuth 1.0a), limits (15-minute and 24-hour windows), rules (automation rules, weighted length),
billing (ledger, credits, usage cap), faults, problems (X's error bodies), world, scenario, clock.
"""

from x_emulator.clock import SimulatedClock
from x_emulator.scenario import load_scenario
from x_emulator.server import XApiEmulator
from x_emulator.world import DmEvent, Post, User, World

__all__ = ["DmEvent", "Post", "SimulatedClock", "User", "World", "XApiEmulator", "load_scenario"]
