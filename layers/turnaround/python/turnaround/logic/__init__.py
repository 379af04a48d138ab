"""Business logic by feature; no module here imports boto3 or tweepy (adapters and dal do)."""
