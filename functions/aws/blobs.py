"""The run-data bucket on S3: outputs and log lines too large for their run record
(``functions.stores.run_data``). Deployed, the stack grants the functions ``s3:PutObject`` and
``s3:GetObject`` on ``runs/*`` of this bucket only; locally and in tests it is a bucket of moto's S3.
The client comes from ``Clients``: created by the first large run, never at a cold start."""

from __future__ import annotations

from functions.aws.clients import Clients


class S3Blobs:
    def __init__(self, clients: Clients, bucket: str) -> None:
        self.clients, self.bucket = clients, bucket

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self.clients.get("s3").put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)

    def get(self, key: str) -> bytes:
        client = self.clients.get("s3")
        try:
            return client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except client.exceptions.NoSuchKey:
            raise KeyError(key) from None
