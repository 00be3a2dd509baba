"""One cold start in a fresh interpreter: import a handler module, then serve its first request, network stubbed.

Run by benchmarks/perf_budget.py, never imported: `python -S cold_request.py CASE_FILE` with the function folder
as the working directory and the built layer on PYTHONPATH. CASE_FILE (a Python literal) holds the event, the
canned DynamoDB answers and where to write the result.

Why this exists: a module can look cheap to import because it defers imports into the handler. Timing the import
and the first request in the same process makes that visible: whatever moved out of the import shows up here.

The stubs sit where the network starts, so everything above it runs for real and is timed: botocore still loads
its endpoint and service data, builds the client, signs, serializes and parses (only `URLLib3Session.send` is
answered from the canned responses), and redis-py still builds its client, pool and scripts (only
`Redis.execute_command` answers without a socket), and kafka-python's producer acknowledges every record without
connecting (kafka-python itself is still imported, when the handler imports it). They are installed as post-import
hooks, so setting them up imports nothing: a module the handler does not import stays unimported, and one it
imports late is paid for late.
This script itself imports only modules the interpreter has already loaded at start-up (sys, time, posix), and
has no type hints for the same reason (typing is not loaded either).
"""

import posix
import sys
import time

# The case is a Python literal written by perf_budget.py: json is not loaded yet, and the handler must pay for it.
with open(sys.argv[1]) as case_file:
    CASE = eval(case_file.read(), {"__builtins__": {}})  # noqa: S307 - a literal this benchmark wrote itself
sys.path[0] = posix.getcwd()  # the function folder, as Lambda puts it first on the path


class _Raw:
    """The `raw` of a botocore AWSResponse: botocore reads the body through stream()."""

    def __init__(self, body):
        self._body = body

    def stream(self, **_):
        yield self._body


def _dynamodb_answer(request):
    """(status, body) for one DynamoDB call: `Operation:table` wins over `Operation` (bodies pre-serialized)."""
    operation = request.headers["X-Amz-Target"].decode().split(".")[-1]
    answers = CASE["dynamodb"]
    for key, body in answers.items():
        op, _, table = key.partition(":")
        if op == operation and table and f'"{table}"'.encode() in request.body:
            return 200, body.encode()
    if operation in answers:
        return 200, answers[operation].encode()
    return 400, ('{"__type": "ValidationException", "message": "no canned ' + operation + '"}').encode()


def _patch_botocore(module):
    def send(self, request):
        from botocore.awsrequest import AWSResponse  # loaded by botocore itself before any send

        status, body = _dynamodb_answer(request)
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "cold-request"}
        return AWSResponse(request.url, status, headers, _Raw(body))

    module.URLLib3Session.send = send


def _patch_redis(module):
    def execute_command(self, *args, **options):
        command = str(args[0]).upper()
        if command == "MGET":
            return [None] * (len(args) - 1)
        if command in {"EVALSHA", "EVAL"}:  # the rate limiter: allowed, 99 left, window resets in 60 s
            return [1, 99, int(time.time() * 1000) + 60_000]
        return True  # SET, PING

    module.Redis.execute_command = execute_command


class _Acked:
    def get(self, timeout=None):
        return None


class _Producer:
    """Stands in for kafka-python's KafkaProducer, whose constructor connects and starts a sender thread."""

    def __init__(self, **config):
        self.config = config

    def send(self, topic, key=None, value=None, headers=None):
        return _Acked()

    def flush(self, timeout=None):
        return None


def _patch_kafka(module):
    module.KafkaProducer = _Producer


class _PatchAfterImport:
    """A meta path finder that lets the normal finders load a module, then patches it."""

    def __init__(self, patches):
        self.patches = patches

    def find_spec(self, name, path, target=None):
        patch = self.patches.get(name)
        if patch is None:
            return None
        for finder in sys.meta_path:
            if finder is not self and hasattr(finder, "find_spec"):
                spec = finder.find_spec(name, path, target)
                if spec is not None:
                    spec.loader = _PatchingLoader(spec.loader, patch)
                    return spec
        return None


class _PatchingLoader:
    def __init__(self, loader, patch):
        self.loader, self.patch = loader, patch

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        self.patch(module)


class _Context:
    function_name = CASE["function"]
    function_version = "$LATEST"
    invoked_function_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{function_name}"
    memory_limit_in_mb = 512
    aws_request_id = "cold-request"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"

    @staticmethod
    def get_remaining_time_in_millis():
        return 30_000


def main():
    sys.meta_path.insert(
        0,
        _PatchAfterImport(
            {
                "botocore.httpsession": _patch_botocore,
                "redis.client": _patch_redis,
                "kafka.producer.kafka": _patch_kafka,
            }
        ),
    )
    started = time.perf_counter()
    import app  # type: ignore[import-not-found]

    imported = time.perf_counter()
    result = app.handler(CASE["event"], _Context())
    answered = time.perf_counter()
    status = result.get("statusCode", "policy" if "policyDocument" in result else "?")
    report = {
        "import_ms": (imported - started) * 1000,
        "first_request_ms": (answered - imported) * 1000,
        "status": status,
        "body": str(result.get("body", ""))[:300],
    }
    with open(CASE["out"], "w") as out:
        out.write(repr(report))


main()
