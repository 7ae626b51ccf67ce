"""
moto in server mode, as `python -m moto.server -H HOST -p PORT` runs it, plus state that lasts
across restarts when `--state FILE` is given: the local runtime's S3 objects (with their
metadata and unfinished multipart uploads) and SQS queues (with every message, in flight or
not, its receive count and its visibility) and, when moto plays DynamoDB, its tables.

moto 5.2.1 keeps everything in memory and has no persistence option of its own. Its backends
are plain Python objects (S3 keys even define __getstate__ for pickling), so this keeps them
the straightforward way: pickled to FILE when the server stops (SIGTERM, SIGINT or SIGHUP:
the runtime's close, or the runtime's watchdog when the runtime died), and loaded before it
starts serving. The state is written to a temporary file and renamed, so a stop that is cut
short leaves the previous state intact. A SIGKILL of this process loses what changed since it
started; nothing else does.

The file is loaded only by the moto version that wrote it (moto's classes change between
versions); another version refuses to start rather than silently starting empty. Like any
pickle it is trusted code: it lives in the project's own data directory.
"""

import argparse
import copyreg
import logging
import os
import pickle
import signal
import sys
import threading
import time

import moto
from moto.backends import get_backend
from moto.s3 import models as s3_models
from moto.s3 import responses as s3_responses
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

SERVICES = ("s3", "sqs", "dynamodb")

# Locks and conditions cannot be pickled; a restored backend gets fresh ones.
_lock_types = {type(threading.Lock()): threading.Lock, type(threading.RLock()): threading.RLock}


def _pickler(f):
    p = pickle.Pickler(f, protocol=pickle.HIGHEST_PROTOCOL)
    p.dispatch_table = copyreg.dispatch_table.copy()
    for lock_type, factory in _lock_types.items():
        p.dispatch_table[lock_type] = lambda _lock, factory=factory: (factory, ())
    p.dispatch_table[threading.Condition] = lambda _cond: (threading.Condition, ())
    return p


def save(path):
    backends = [
        (service, account, region, backend)
        for service in SERVICES
        for account, region, backend in get_backend(service).iter_backends()
    ]
    tmp = f"{path}.tmp"
    # A request still running (a long poll the runtime's death cut short) may change a dict
    # while it is pickled: try again.
    for attempt in range(20):
        try:
            with open(tmp, "wb") as f:
                _pickler(f).dump({"moto": moto.__version__, "backends": backends})
                f.flush()
                os.fsync(f.fileno())
            break
        except RuntimeError:
            if attempt == 19:
                raise
            time.sleep(0.1)
    os.replace(tmp, path)


def load(path):
    if not os.path.exists(path):
        return
    with open(path, "rb") as f:
        state = pickle.load(f)
    if state.get("moto") != moto.__version__:
        sys.exit(
            f"{path} was written by moto {state.get('moto')}, this is moto {moto.__version__}: "
            "start with --fresh (or OPENBATCH_FRESH=1) to begin empty, or move the data directory away"
        )
    for service, account, region, backend in state["backends"]:
        get_backend(service)[account][region] = backend


class _KeyBody:
    """
    A key's bytes for a ranged GET, read from the key's buffer only where sliced.

    moto 5.2.1 answers `GET` with `Range: bytes=a-b` by reading the whole object into memory
    (`FakeKey.value` copies the buffer, which moto spools to disk above 5 MB) and then slicing
    it. A worker reading its 2,000-line range of a 1 GB input therefore made moto read and copy
    1 GB, and a 1,000,000-request batch spent most of its time there. S3 reads only the range;
    so does this. It offers what moto's range handling uses (len and one slice) and anything
    else falls back to the whole value, so the answer is byte for byte moto's own.
    """

    def __init__(self, key):
        self.key = key

    def __len__(self):
        return self.key.size

    def __getitem__(self, item):
        if not isinstance(item, slice) or item.step not in (None, 1):
            return self.key.value[item]
        start, stop, _ = item.indices(self.key.size)
        with self.key.lock:
            buffer = self.key._value_buffer
            buffer.seek(start)
            return buffer.read(max(0, stop - start))


_lazy_value = threading.local()
_original_value = s3_models.FakeKey.value


def _value(key):
    # Only inside a ranged get_object (below), where the body goes to the range handling.
    if getattr(_lazy_value, "on", False):
        return _KeyBody(key)
    return _original_value.fget(key)


def _single_range(request):
    spec = request.headers.get("range") or ""
    return spec.startswith("bytes=") and "," not in spec


def read_ranges_in_place():
    """Patches moto's S3 GET so a single byte range reads only that range (see _KeyBody)."""
    s3_models.FakeKey.value = property(_value, _original_value.fset)
    original_get_object = s3_responses.S3Response.get_object
    original_key_response = s3_responses.S3Response.key_response

    def get_object(self):
        ranged = _single_range(self.request) and not self._get_int_param("partNumber")
        _lazy_value.on = ranged
        try:
            return original_get_object(self)
        finally:
            _lazy_value.on = False

    def key_response(self, request, full_url, headers):
        status, response_headers, body = original_key_response(self, request, full_url, headers)
        # moto answers some ranges with the whole object (a range it does not parse): give it
        # the bytes it would have had.
        if isinstance(body, _KeyBody):
            body = body.key.value
        return status, response_headers, body

    s3_responses.S3Response.get_object = get_object
    s3_responses.S3Response.key_response = key_response


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    parser.add_argument("--state", help="file the state is loaded from and saved to")
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    # One line per request on stderr costs CPU and nobody reads it; warnings and errors stay.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    read_ranges_in_place()
    if args.state:
        load(args.state)
    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True  # as moto.server: a failing request answers with its traceback
    server = make_server(args.host, args.port, app, threaded=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    while not stop.wait(3600):
        pass
    server.shutdown()
    server.server_close()
    if args.state:
        save(args.state)


if __name__ == "__main__":
    main()
