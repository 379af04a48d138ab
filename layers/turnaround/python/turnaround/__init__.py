"""Turnaround: turns customer complaints on X around.

Shared first-party code shipped to every function as the TurnaroundLayer (/opt/python/turnaround).
Handlers stay thin and call ``handlers`` (the composition root); ``logic`` holds the rules by
feature, ``models`` the types, and only ``dal`` (DynamoDB) and ``adapters`` touch boto3 or tweepy.
"""
