#!/usr/bin/env python3
"""Times refused sign-ins: a wrong password for an existing account against an email
that has no account, interleaved in random order, so they can be compared.

    scripts/sign_in_timing.py http://127.0.0.1:3000 existing@example.com [count]

Run it against a server whose sign-in limits are raised for the run
(ROSTER_LIMIT_SIGN_IN_PER_MINUTE, ROSTER_LIMIT_SIGN_IN_FAILURES_PER_15_MINUTES,
ROSTER_LIMIT_ANONYMOUS_PER_15_MINUTES), or the limits answer first.
"""
import random
import statistics
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def attempt(base, email, password):
    data = urllib.parse.urlencode({"email": email, "password": password}).encode()
    request = urllib.request.Request(
        f"{base}/api/sign-in", data=data, headers={"accept": "application/json"}
    )
    started = time.perf_counter()
    try:
        urllib.request.urlopen(request).read()
    except urllib.error.HTTPError as error:
        error.read()
    return (time.perf_counter() - started) * 1000


def main():
    base, existing = sys.argv[1].rstrip("/"), sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    for _ in range(5):
        attempt(base, existing, "warming up")
    wrong_password, wrong_email = [], []
    for n in range(count):
        pair = [(existing, wrong_password), (f"nobody{n}@example.invalid", wrong_email)]
        random.shuffle(pair)
        for email, times in pair:
            times.append(attempt(base, email, f"wrong password {n}"))
    for name, times in (("wrong password", wrong_password), ("wrong email", wrong_email)):
        times.sort()
        print(
            f"{name:15} median {statistics.median(times):5.1f} ms, "
            f"p90 {times[int(len(times) * 0.9)]:5.1f} ms, mean {statistics.mean(times):5.1f} ms"
        )


if __name__ == "__main__":
    main()
