"""JSON -> DataFrame speed and memory: ``pn.aggregate`` against the naive path and the floor.

A 200,000-row nested ``visitors`` aggregation answer (about 75 MB) is served from loopback by a
tiny HTTP server, and turned into a DataFrame three ways, each in a fresh subprocess (so peak
memory is measured alone) and each including the HTTP fetch:

* ``pn.aggregate``: the library (cache off), in a fresh process;
* ``pn.aggregate warmed``: the same after the libraries' one-time setup, made by converting a
  2,000-row answer of the same shape first (pyarrow's JSON reader and pandas' Arrow-backed types
  take about 8 MB the first time they are used in a process, once per kernel; ``bench_large``
  warms up before measuring memory too);
* naive: ``requests`` ``.json()`` + ``pandas.json_normalize``;
* floor: ``orjson.loads`` of the bytes + ``pandas.DataFrame(rows)``, without flattening;
* arrow limit: the physical limit, the fastest known columnar parse of the same rows: pyarrow's
  JSON reader on them one per line (its native layout, read on every core), parse only (no HTTP,
  no pandas; the lines are made before the clock starts).

Targets: ``pn.aggregate`` within 1.5x of the floor and 2.5x of the arrow limit, at least 3x
faster than naive, and a peak memory increase at most 1.5x the final DataFrame's size
(``memory_usage(deep=True)``; issue 18), measured warmed; the first pull in a fresh process is
printed beside it.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROWS = 200_000
KEY = "bench-frames-key-0000000000000000"
T0 = 1_790_000_000_000
SCHEMA = {
    "custom": {
        "department": {"Type": "string"},
        "onboardingprogress": {"Type": "float"},
        "logincount": {"Type": "integer"},
        "betaopt": {"Type": "boolean"},
        "signupdate": {"Type": "time"},
    },
    "agent": {"email": {"Type": "string"}, "role": {"Type": "string"}},
}
REPEAT = 3
METHODS = ("pn.aggregate", "pn.aggregate warmed", "naive", "floor", "arrow limit")
WARM_UP_ROWS = 2_000


def build_payload(rows: int = ROWS, seed: int = 7) -> bytes:
    """A visitors aggregation answer shaped like Pendo's (reference 4.1), deterministic."""
    import orjson

    rnd = random.Random(seed)
    browsers = ["Chrome", "Firefox", "Safari", "Edge"]
    systems = ["Mac OS X", "Windows", "Linux", "iOS"]
    roles = ["admin", "member", "viewer", "billing"]
    departments = ["Finance", "Sales", "Engineering", "Support", "Marketing"]
    results = []
    for i in range(rows):
        visitor = f"v{i:07d}"
        accounts = [f"acct-{rnd.randrange(20_000):05d}" for _ in range(rnd.randrange(1, 3))]
        browser = rnd.choice(browsers)
        first = T0 - rnd.randrange(400 * 86_400_000)
        last = first + rnd.randrange(30 * 86_400_000)
        custom = {
            "department": rnd.choice(departments),
            "logincount": rnd.randrange(500),
            "betaopt": rnd.random() < 0.3,
            "signupdate": first - 86_400_000,
        }
        if i % 4:
            custom["onboardingprogress"] = round(rnd.random(), 2)
        results.append(
            {
                "visitorId": visitor,
                "metadata": {
                    "auto": {
                        "accountid": accounts[0],
                        "accountids": accounts,
                        "firstvisit": first,
                        "lastvisit": last,
                        "lastbrowsername": browser,
                        "lastoperatingsystem": rnd.choice(systems),
                    },
                    "agent": {
                        "email": f"{visitor}@example.com",
                        "role": rnd.choice(roles),
                    },
                    "custom": custom,
                },
            }
        )
    return orjson.dumps({"startTime": T0, "results": results})


class _Server(ThreadingHTTPServer):
    daemon_threads = True


def serve(payload: bytes) -> tuple[_Server, str]:
    """Serve the payload on loopback: POST /api/v1/aggregation, GET the metadata schema."""
    schema = json.dumps(SCHEMA).encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):  # noqa: N802 (http.server's naming)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._answer(payload)

        def do_GET(self):  # noqa: N802
            self._answer(schema)

        def log_message(self, format, *args):  # noqa: A002
            pass

    server = _Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _rss_bytes() -> int:
    """This process's resident memory now (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class _PeakSampler:
    """Samples RSS every few milliseconds while a block runs.

    ``ru_maxrss`` is not enough: allocators that return memory with ``madvise`` (pyarrow's
    jemalloc/mimalloc) never update the kernel's high-water mark, so their peaks go unseen.
    """

    def __enter__(self):
        self.peak = _rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, _rss_bytes())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())


def _child(method: str, url: str) -> None:
    """Run one method REPEAT times in this fresh process and print a JSON line of results."""
    import gc

    import orjson
    import pandas as pd
    import requests

    import pendo_nb as pn

    pipeline = [{"source": {"visitors": None}}]
    body = {"response": {"mimeType": "application/json"}, "request": {"pipeline": pipeline}}
    headers = {"x-pendo-integration-key": KEY, "Content-Type": "application/json"}
    client = pn.connect(key=KEY, base_url=url, cache=False, rate_limit=None)
    if method == "pn.aggregate warmed":
        from pendo_nb.frames import json_reader

        json_reader.json_to_frame(build_payload(WARM_UP_ROWS, seed=3), columnar=True)
        method = "pn.aggregate"
    if method == "arrow limit":
        import pyarrow as pa
        import pyarrow.json as pa_json

        lines = b"\n".join(map(orjson.dumps, orjson.loads(build_payload())["results"]))

    def run():
        if method == "arrow limit":
            return pa_json.read_json(pa.BufferReader(lines))  # type: ignore[arg-type]
        if method == "pn.aggregate":
            return pn.aggregate(pipeline, client=client)
        response = requests.post(
            f"{url}/api/v1/aggregation", data=json.dumps(body), headers=headers
        )
        if method == "naive":
            return pd.json_normalize(response.json()["results"])
        return pd.DataFrame(orjson.loads(response.content)["results"])

    gc.collect()
    baseline = _rss_bytes()
    times = []
    with _PeakSampler() as sampler:  # memory is measured on the first run, in a fresh process
        started = time.perf_counter()
        frame = run()
        times.append(time.perf_counter() - started)
    peak = sampler.peak - baseline
    if method == "arrow limit":  # an Arrow table of nested columns, not a DataFrame
        size, shape = frame.nbytes, [frame.num_rows, frame.num_columns]
    else:
        size, shape = int(frame.memory_usage(deep=True).sum()), list(frame.shape)
    for _ in range(REPEAT - 1):
        del frame
        gc.collect()
        started = time.perf_counter()
        frame = run()  # noqa: F841 (kept alive like a user's result)
        times.append(time.perf_counter() - started)
    print(json.dumps({"times": times, "peak": peak, "size": size, "shape": shape}))


def main() -> None:
    started = time.perf_counter()
    payload = build_payload()
    built = time.perf_counter() - started
    print(f"payload: {ROWS:,} rows, {len(payload) / 1e6:.1f} MB (built in {built:.1f} s)")
    server, url = serve(payload)
    results = {}
    try:
        for method in METHODS:
            out = subprocess.run(
                [sys.executable, "-m", "benchmarks.bench_frames", "--child", method, url],
                check=True,
                capture_output=True,
                text=True,
            )
            results[method] = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        server.shutdown()
    best = {m: min(r["times"]) for m, r in results.items()}
    print(
        f"{'method':<21}{'best s':>8}{'runs (s)':>20}{'shape':>14}{'peak MB':>9}{'df MB':>7}",
        end="",
    )
    print(f"{'peak/df':>8}")
    for method, r in results.items():
        runs = " ".join(f"{t:.2f}" for t in r["times"])
        print(
            f"{method:<21}{best[method]:>8.2f}{runs:>20}{'x'.join(map(str, r['shape'])):>14}"
            f"{r['peak'] / 1e6:>9.0f}{r['size'] / 1e6:>7.0f}{r['peak'] / r['size']:>8.2f}"
        )
    ours = results["pn.aggregate warmed"]
    first = results["pn.aggregate"]
    vs_floor = best["pn.aggregate"] / best["floor"]
    vs_naive = best["naive"] / best["pn.aggregate"]
    vs_limit = best["pn.aggregate"] / best["arrow limit"]
    memory = ours["peak"] / ours["size"]
    print(f"{'peak / df size, first pull':<28}{first['peak'] / first['size']:>6.2f}x  (in a fresh "
          "process, before the one-time setup: no target)")  # fmt: skip
    for label, value, target, met in (
        ("pn.aggregate / floor", vs_floor, "<= 1.5", vs_floor <= 1.5),
        ("pn.aggregate / arrow limit", vs_limit, "<= 2.5", vs_limit <= 2.5),
        ("naive / pn.aggregate", vs_naive, ">= 3", vs_naive >= 3),
        ("peak / df size, warmed", memory, "<= 1.5", memory <= 1.5),
    ):
        print(f"{label:<28}{value:>6.2f}x  (target {target}): {'met' if met else 'MISSED'}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
    else:
        main()
