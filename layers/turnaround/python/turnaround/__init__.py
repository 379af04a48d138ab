"""Turnaround: turns customer complaints on X around.

Shared first-party code shipped to every function as the TurnaroundLayer (/opt/python/turnaround).
Handlers stay thin; logic lives in modules here and only ``adapters`` touch boto3 or tweepy.
"""
