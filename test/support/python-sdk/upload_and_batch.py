"""The official OpenAI Python SDK, unmodified, against openbatch.

Uploads a JSONL file with `client.uploads.upload_file_chunked` (parts through the API), runs a
batch on the File, waits for it to complete and downloads the output. Prints a JSON summary on
stdout for the test to check; exits non-zero with the reason on stderr when a step fails.

Environment: OPENAI_BASE_URL and OPENAI_API_KEY (read by the SDK itself), PART_SIZE (bytes).
Usage: python upload_and_batch.py FILE
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

import openai
from openai import OpenAI

ENDED = {"completed", "failed", "expired", "cancelled"}


def main() -> int:
    path = Path(sys.argv[1])
    part_size = int(os.environ.get("PART_SIZE", str(1024 * 1024)))
    data = path.read_bytes()
    client = OpenAI()

    upload = client.uploads.upload_file_chunked(
        file=path,
        mime_type="application/jsonl",
        purpose="batch",
        part_size=part_size,
        md5=hashlib.md5(data).hexdigest(),
    )
    if upload.status != "completed" or upload.file is None:
        raise SystemExit(f"upload not completed: {upload.model_dump_json()}")
    file = upload.file
    downloaded = client.files.content(file.id).read()

    batch = client.batches.create(
        input_file_id=file.id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"client": "openai-python"},
    )
    deadline = time.monotonic() + 40
    while batch.status not in ENDED:
        if time.monotonic() > deadline:
            raise SystemExit(f"batch {batch.id} still {batch.status} after 40 s")
        time.sleep(0.25)
        batch = client.batches.retrieve(batch.id)

    output_ids: Counter[str] = Counter()
    if batch.output_file_id:
        for line in client.files.content(batch.output_file_id).text.splitlines():
            if line:
                output_ids[json.loads(line)["custom_id"]] += 1
    error_lines = 0
    if batch.error_file_id:
        error_lines = sum(1 for line in client.files.content(batch.error_file_id).text.splitlines() if line)
    input_ids = [json.loads(line)["custom_id"] for line in data.decode().splitlines() if line]

    print(
        json.dumps(
            {
                "sdk_version": openai.__version__,
                "upload": {"id": upload.id, "status": upload.status, "bytes": upload.bytes},
                "file": {"id": file.id, "bytes": file.bytes, "filename": file.filename, "purpose": file.purpose},
                "parts": -(-len(data) // part_size),
                "content_matches": downloaded == data,
                "batch": {
                    "id": batch.id,
                    "status": batch.status,
                    "request_counts": batch.request_counts.model_dump() if batch.request_counts else None,
                    "metadata": batch.metadata,
                },
                "input_ids": len(input_ids),
                "output_ids": len(output_ids),
                "error_lines": error_lines,
                "every_id_once": sorted(output_ids) == sorted(input_ids) and set(output_ids.values()) == {1},
            }
        )
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except openai.APIStatusError as e:
        request = e.request
        print(
            f"{type(e).__name__}: {request.method} {request.url} -> {e.status_code} {e.response.text}",
            file=sys.stderr,
        )
        sys.exit(1)
