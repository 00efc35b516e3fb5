"""The Files bucket: presigned uploads and downloads, ranged reads, reports written whole.

Presigned URLs are signed with the function's credentials and point at the endpoint its S3 client
uses (in AWS the bucket's, locally moto's: `AWS_ENDPOINT_URL`), so a person or a script reaches
the bucket directly; the function never carries the file through API Gateway's 10 MB limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from botocore.exceptions import ClientError

from ecrm.errors import Unavailable
from ecrm.imports.errors import FileReplaced
from ecrm.imports.ports import FileStat

S3Client = Any  # the lock has no S3 stubs (mypy_boto3_s3); the calls below are the only ones
PART_BYTES = 8 * 1024 * 1024  # S3's parts are at least 5 MiB (but the last)

_MISSING = ("404", "NoSuchKey", "NotFound")


class S3Files:
    def __init__(self, client: S3Client, bucket: str) -> None:
        self._s3 = client
        self._bucket = bucket

    def upload_url(self, key: str, size_bytes: int, content_type: str, expires_in: int) -> tuple[str, dict[str, str]]:
        # Content-Length is signed: S3 refuses a PUT of any other size (a presigned PUT has no
        # content-length-range; the worker checks the size again before it reads).
        url: str = self._s3.generate_presigned_url(
            "put_object",
            Params={"Bucket": self._bucket, "Key": key, "ContentLength": size_bytes, "ContentType": content_type},
            ExpiresIn=expires_in,
        )
        return url, {"Content-Type": content_type, "Content-Length": str(size_bytes)}

    def download_url(self, key: str, expires_in: int) -> str:
        url: str = self._s3.generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=expires_in
        )
        return url

    def stat(self, key: str) -> FileStat | None:
        try:
            head = self._s3.head_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise
        return FileStat(size=int(head["ContentLength"]), version=str(head["ETag"]))

    def read(self, key: str, start: int, chunk_bytes: int, version: str) -> Iterator[bytes]:
        offset = start
        while True:
            try:
                answer = self._s3.get_object(
                    Bucket=self._bucket, Key=key, Range=f"bytes={offset}-{offset + chunk_bytes - 1}", IfMatch=version
                )
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code")
                if code == "InvalidRange":  # from past the end: nothing more
                    return
                if code in ("PreconditionFailed", "412"):
                    raise FileReplaced(key) from exc
                if code in ("SlowDown", "ServiceUnavailable", "InternalError"):
                    raise Unavailable(f"S3 answered {code}") from exc
                raise
            body = answer["Body"].read()
            if not body:
                return
            yield body
            offset += len(body)
            if len(body) < chunk_bytes:
                return

    def write(self, key: str, body: bytes, content_type: str) -> None:
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=content_type)

    def write_stream(self, key: str, chunks: Iterable[bytes], content_type: str) -> None:
        """A multipart upload, one part per PART_BYTES gathered; the object appears only when the
        upload completes (a stopped one is aborted by the bucket's lifecycle rule after a day)."""
        upload = self._s3.create_multipart_upload(Bucket=self._bucket, Key=key, ContentType=content_type)
        parts: list[dict[str, Any]] = []
        pending = bytearray()

        def send(body: bytes) -> None:
            answer = self._s3.upload_part(
                Bucket=self._bucket, Key=key, UploadId=upload["UploadId"], PartNumber=len(parts) + 1, Body=body
            )
            parts.append({"ETag": answer["ETag"], "PartNumber": len(parts) + 1})

        for chunk in chunks:
            pending += chunk
            if len(pending) >= PART_BYTES:
                send(bytes(pending))
                pending.clear()
        if pending or not parts:
            send(bytes(pending))
        self._s3.complete_multipart_upload(
            Bucket=self._bucket, Key=key, UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
        )
