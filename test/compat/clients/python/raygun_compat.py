"""The compatibility scenario with the real raygun4py: argv[1] is the Sluice URL, argv[2] the key.

Raises ValueError two calls deep twice (one group) and ZeroDivisionError once (another group);
prints the HTTP status of each send as JSON. raygun4py has no breadcrumbs and no environment.
"""
import json
import sys
from urllib.parse import urlsplit

from raygun4py import raygunprovider


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
    url = urlsplit(sys.argv[1])
    client = raygunprovider.RaygunSender(
        sys.argv[2],
        config={"endpointprotocol": url.scheme + "://", "endpointhost": url.netloc},
    )
    client.set_version("compat@1.2.3")
    client.set_user({"identifier": "u-42", "email": "ada@example.com", "fullName": "ada", "isAnonymous": False})
    statuses = []
    for raw in ("abc", "xyz"):
        try:
            load_config(raw)
        except ValueError:
            statuses.append(client.send_exception(exc_info=sys.exc_info(), tags=["checkout"])[0])
    try:
        ratio(1)
    except ZeroDivisionError:
        statuses.append(client.send_exception(exc_info=sys.exc_info(), tags=["checkout"])[0])
    print(json.dumps({"statuses": statuses}))


if __name__ == "__main__":
    main()
