"""A bounded load run against `densekit serve`: a fixed number of POST /v1/search requests
(one dev query each, k 10, ids and scores only) from C client threads, each with its own
keep-alive connection; stops by itself. Prints one JSON object: queries/s over the whole run,
p50 and p99 latency (ms), errors.

    python serve_load.py --port P --queries queries.tsv --concurrency C --requests N
"""
import argparse
import http.client
import json
import statistics
import threading
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--queries", required=True)
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--requests", type=int, required=True)
    parser.add_argument("-k", type=int, default=10)
    args = parser.parse_args()
    texts = [line.rstrip("\n").split("\t", 1)[1] for line in open(args.queries, encoding="utf-8") if "\t" in line]
    bodies = [json.dumps({"query": t, "k": args.k, "fields": ["id", "score"]}).encode() for t in texts]
    latencies, errors, lock = [], [0], threading.Lock()

    def worker(index):
        connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=60)
        mine = []
        for r in range(index, args.requests, args.concurrency):
            started = time.perf_counter()
            connection.request("POST", "/v1/search", body=bodies[r % len(bodies)], headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                with lock:
                    errors[0] += 1
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    latencies.sort()
    print(json.dumps({
        "concurrency": args.concurrency, "requests": len(latencies), "errors": errors[0], "seconds": round(wall, 3),
        "queries_per_s": round(len(latencies) / wall, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 2),
        "p99_ms": round(1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 2),
    }))


if __name__ == "__main__":
    main()
