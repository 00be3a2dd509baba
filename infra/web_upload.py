"""Upload the built web app (web/dist) to the stack's web bucket, with the config.json of that stack.

`python -m infra.web_upload --stack-name taskapp --dist web/dist --api-url URL [--websocket-url URL]` prints the
web URL. One build serves every stack: the stack's URLs reach the app through `config.json` (read at start-up) and
the Content-Security-Policy meta tag of `index.html`, whose `__CONNECT_SRC__` placeholder becomes the API and
WebSocket origins here (S3 cannot add a response header; CloudFront adds the coarse policy as one, template.yaml).
`index.html` and `config.json` are uploaded `no-cache` (they change with every upload); the hashed assets
`immutable`.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3

from infra.stack import Stack

PLACEHOLDER = "__CONNECT_SRC__"
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".json": "application/json"}


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def connect_src(api_url: str, websocket_url: str | None) -> str:
    """The origins the app may connect to: exactly the stack's API and WebSocket API."""
    origins = [origin_of(api_url)] + ([origin_of(websocket_url)] if websocket_url else [])
    return " ".join(dict.fromkeys(origins))


def local_web_url(bucket: str, endpoint: str) -> str:
    """MiniStack serves a bucket at `http://<bucket>.s3.localhost:<port>/<key>` (virtual-hosted style; browsers
    resolve every *.localhost name to loopback). A host of its own gives the app an origin apart from the API's."""
    port = urlsplit(endpoint).port or 4566
    return f"http://{bucket}.s3.localhost:{port}/index.html"


def files_to_upload(dist: Path, api_url: str, websocket_url: str | None) -> list[tuple[str, bytes, dict[str, str]]]:
    uploads: list[tuple[str, bytes, dict[str, str]]] = []
    for path in sorted(p for p in dist.rglob("*") if p.is_file()):
        key = path.relative_to(dist).as_posix()
        body = path.read_bytes()
        if key == "index.html":
            text = body.decode("utf-8")
            if PLACEHOLDER not in text:
                raise SystemExit(f"{path} has no {PLACEHOLDER} placeholder: is it the build of web/index.html?")
            body = text.replace(PLACEHOLDER, connect_src(api_url, websocket_url)).encode("utf-8")
        if key == "config.json":
            continue  # a dev copy never overrides the generated one
        content_type = CONTENT_TYPES.get(path.suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"
        cache = "public, max-age=31536000, immutable" if key.startswith("assets/") else "no-cache"
        uploads.append((key, body, {"ContentType": content_type, "CacheControl": cache}))
    config = {"apiUrl": api_url, **({"webSocketUrl": websocket_url} if websocket_url else {})}
    uploads.append(
        (
            "config.json",
            json.dumps(config).encode("utf-8"),
            {"ContentType": "application/json", "CacheControl": "no-cache"},
        )
    )
    return uploads


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.web_upload", description=__doc__.splitlines()[0])
    parser.add_argument("--stack-name", default=os.environ.get("STACK_NAME", "taskapp"))
    parser.add_argument("--dist", type=Path, default=Path("web/dist"))
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--websocket-url")
    parser.add_argument("--config-out", type=Path, help="also write config.json here (make web-dev reads it)")
    args = parser.parse_args(argv)

    stack = Stack(args.stack_name)
    bucket = stack.output("WebBucketName")
    client: Any = boto3.client("s3")
    uploads = files_to_upload(args.dist, args.api_url, args.websocket_url)
    for key, body, extra in uploads:
        client.put_object(Bucket=bucket, Key=key, Body=body, **extra)
    if args.config_out:
        args.config_out.write_bytes(uploads[-1][1])
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    print(local_web_url(bucket, endpoint) if endpoint else stack.output("WebUrl"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
