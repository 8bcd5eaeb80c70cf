"""The compatibility scenario with the real Python sentry-sdk: argv[1] is the DSN.

Raises ValueError two calls deep twice (one group), ZeroDivisionError once (another group), captures
one message; prints {"errors": [...], "other": id, "message": id} as JSON.
"""
import json
import sys

import sentry_sdk


def parse_port(raw):
    if not raw.isdigit():
        raise ValueError("invalid port: " + raw)
    return int(raw)


def load_config(raw):
    return {"port": parse_port(raw)}


def divide(a, b):
    return a / b


def ratio(a):
    return divide(a, 0)


def main():
    sentry_sdk.init(dsn=sys.argv[1], release="compat@1.2.3", environment="compat", send_default_pii=True)
    sentry_sdk.set_user({"id": "u-42", "email": "ada@example.com", "username": "ada"})
    sentry_sdk.set_tag("feature", "checkout")
    sentry_sdk.add_breadcrumb(category="config", message="loading config", level="info")
    out = {"errors": []}
    for raw in ("abc", "xyz"):
        try:
            load_config(raw)
        except ValueError as err:
            out["errors"].append(sentry_sdk.capture_exception(err))
    try:
        ratio(1)
    except ZeroDivisionError as err:
        out["other"] = sentry_sdk.capture_exception(err)
    out["message"] = sentry_sdk.capture_message("compat message")
    sentry_sdk.flush(10)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
