"""Sends real errors with the real sentry-sdk to the DSN in argv[1]; prints the body encoding the
SDK chose ("encoding=br" when the brotli module imports, else "encoding=gzip"), then one event id
per line.

Mode "same" raises the same KeyError twice from the same code path (one group expected);
mode "other" raises a ZeroDivisionError elsewhere (a second group).
"""
import sys

import sentry_sdk


def read_quota(quotas, user):
    return quotas[user]


def charge(user):
    return read_quota({"ada": 3}, user)


def checkout(user):
    return charge(user)


def ratio(a, b):
    return a / b


def main():
    dsn, mode = sys.argv[1], sys.argv[2]
    sentry_sdk.init(dsn=dsn, release="billing@7.1.0", environment="e2e", traces_sample_rate=0)
    # The SDK's own choice (private, but it is what decides the Content-Encoding of every request).
    print(f"encoding={sentry_sdk.get_client().transport._compression_algo}")
    ids = []
    if mode == "same":
        for user in ("bob", "carol"):
            try:
                checkout(user)
            except KeyError as err:
                ids.append(sentry_sdk.capture_exception(err))
    else:
        try:
            ratio(1, 0)
        except ZeroDivisionError as err:
            ids.append(sentry_sdk.capture_exception(err))
    sentry_sdk.flush(5)
    for event_id in ids:
        print(event_id)


if __name__ == "__main__":
    main()
