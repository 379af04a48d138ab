"""Adapters: the only modules (with dal/) that talk to X through tweepy or to AWS through boto3."""
