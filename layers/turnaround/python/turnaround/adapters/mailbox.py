"""Inbound email as SES stored it in S3 (receipt rule: S3 action, then Lambda action). The only module
that reads the inbound-mail bucket."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import ClientError

from turnaround.exceptions import StorageError

HEAD_BYTES = 65_536  # enough for any message's headers


class Mailbox:
    def __init__(self, bucket: str, prefix: str = "", *, client: Any = None):
        self.bucket, self.prefix = bucket, prefix
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = boto3.client("s3")
        return self._client

    def key(self, ses_message_id: str) -> str:
        return f"{self.prefix}{ses_message_id}"

    def read(self, ses_message_id: str, *, max_bytes: int) -> tuple[bytes, int]:
        """The raw message, or only its head when it is larger than ``max_bytes``; and its size.

        One GET: its ContentLength arrives before the body, so a message over the limit is read no
        further than its head and the stream is closed (no HEAD request first: a round trip, and at
        a cold start a second S3 operation to load, for every mail)."""
        key = self.key(ses_message_id)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
            size = int(response["ContentLength"])
            stream = response["Body"]
            try:
                body = stream.read(HEAD_BYTES) if size > max_bytes else stream.read()
            finally:
                stream.close()
        except ClientError as exc:
            raise StorageError(
                f"inbound mail s3://{self.bucket}/{key} unreadable: {exc.response['Error'].get('Code')}"
            ) from exc
        return bytes(body), size
