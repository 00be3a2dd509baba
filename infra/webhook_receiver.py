"""`python -m infra.webhook_receiver --secret whsec_...`: a local webhook receiver that verifies and prints.

For trying webhooks on a `make run` stack (README, "Webhooks"): it listens on 127.0.0.1, checks each request's
Standard Webhooks signature with the `standardwebhooks` package, prints the verified event and answers 204 (401
when the signature does not verify).
"""

from __future__ import annotations

import argparse
import json
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any


def main(argv: list[str] | None = None) -> int:
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    parser = argparse.ArgumentParser(prog="python -m infra.webhook_receiver", description=__doc__.splitlines()[0])
    parser.add_argument("--secret", required=True, help="the whsec_... secret POST /webhooks answered")
    parser.add_argument("--port", type=int, default=8787)
    args = parser.parse_args(argv)
    verifier = Webhook(args.secret)

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                event = verifier.verify(body, dict(self.headers))
            except WebhookVerificationError as exc:
                print(f"REFUSED {self.headers.get('webhook-id')}: {exc}", flush=True)
                self.send_error(401)
                return
            print(f"verified {self.headers['webhook-id']} {json.dumps(event)}", flush=True)
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *log_args: Any) -> None:  # noqa: A002 - http.server's name
            return

    print(f"listening on http://127.0.0.1:{args.port}/hooks", flush=True)
    HTTPServer(("127.0.0.1", args.port), Receiver).serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
