#!/usr/bin/env bash
# Prints the path of a Python with the real sentry-sdk from PyPI (pinned), creating the venv under
# .cache/ on first use. Used by the end-to-end test of a second platform's SDK.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.cache/python-sdk
SENTRY_SDK_VERSION=2.75.0
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import sentry_sdk, sys; sys.exit(sentry_sdk.VERSION != '$SENTRY_SDK_VERSION')" 2>/dev/null; then
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install -q --disable-pip-version-check "sentry-sdk==$SENTRY_SDK_VERSION" >&2
fi
echo "$PWD/$VENV/bin/python"
