#!/usr/bin/env bash
# Prints the path of a Python with the real sentry-sdk from PyPI (pinned), creating the venv under
# .cache/ on first use. Used by the end-to-end test of a second platform's SDK.
#   scripts/python-sdk.sh          sentry-sdk alone: the SDK sends gzip bodies
#   scripts/python-sdk.sh brotli   sentry-sdk + brotli: the SDK sends br bodies, as in many real apps
set -euo pipefail
cd "$(dirname "$0")/.."
SENTRY_SDK_VERSION=2.75.0
BROTLI_VERSION=1.2.1
VENV=.cache/python-sdk
PACKAGES=("sentry-sdk==$SENTRY_SDK_VERSION")
CHECK="import sentry_sdk, sys; sys.exit(sentry_sdk.VERSION != '$SENTRY_SDK_VERSION')"
if [ "${1:-}" = "brotli" ]; then
  VENV=.cache/python-sdk-brotli
  PACKAGES+=("brotli==$BROTLI_VERSION")
  CHECK="import sentry_sdk, brotli, sys; sys.exit(sentry_sdk.VERSION != '$SENTRY_SDK_VERSION' or brotli.__version__ != '$BROTLI_VERSION')"
fi
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "$CHECK" 2>/dev/null; then
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install -q --disable-pip-version-check "${PACKAGES[@]}" >&2
fi
echo "$PWD/$VENV/bin/python"
