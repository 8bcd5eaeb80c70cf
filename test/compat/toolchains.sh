#!/usr/bin/env bash
# Builds the compatibility suite's non-npm clients from their registries and prints how to run one:
#   python   a venv with sentry-sdk and raygun4py from PyPI          → the venv's python
#   go       sentry-go from the Go module proxy, built once           → the binary
#            (a `go` older than go.mod's fetches the Go toolchain itself from the module proxy)
#   java     io.sentry:sentry from Maven Central, compiled once       → a java command line
# Everything is cached under .cache/compat (keyed by the pinned versions and the sources), so a
# second run costs nothing. Exits 3 with a reason on stderr when the toolchain itself is missing
# (a developer machine); CI installs every toolchain in .ci/run, so there it is a failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
CACHE=$ROOT/.cache/compat
CLIENTS=$ROOT/test/compat/clients
SENTRY_PYTHON_VERSION=2.75.0
RAYGUN4PY_VERSION=8.0.0
SENTRY_JAVA_VERSION=8.64.0
mkdir -p "$CACHE"

missing() { echo "toolchain missing: $1" >&2; exit 3; }
stamp() { cat "$@" | sha256sum | cut -c1-16; }

case "${1:-}" in
  python)
    command -v python3 >/dev/null || missing "python3"
    VENV=$CACHE/python
    want="sentry-sdk==$SENTRY_PYTHON_VERSION raygun4py==$RAYGUN4PY_VERSION"
    if [ "$(cat "$VENV/.pins" 2>/dev/null)" != "$want" ]; then
      rm -rf "$VENV"
      python3 -m venv "$VENV" >&2 || missing "python3-venv"
      # No `brotli` module: sentry-sdk then compresses with gzip (the brotli path is covered by
      # test/e2e/sentry-python.test.ts).
      "$VENV/bin/pip" install -q --disable-pip-version-check $want >&2
      echo "$want" >"$VENV/.pins"
    fi
    echo "$VENV/bin/python"
    ;;
  go)
    export GOMODCACHE=$CACHE/go/mod GOCACHE=$CACHE/go/build GOFLAGS=-mod=readonly
    bin=$CACHE/go/sentry-go-$(stamp "$CLIENTS/go/go.mod" "$CLIENTS/go/go.sum" "$CLIENTS/go/main.go")
    if [ ! -x "$bin" ]; then
      need=$(awk '/^go /{print $2}' "$CLIENTS/go/go.mod")
      have=$(go env GOVERSION 2>/dev/null | sed 's/^go//' || true)
      GO=go
      # Go >= 1.21 fetches a newer toolchain by itself (GOTOOLCHAIN=auto); an older or missing one
      # is replaced by the official toolchain module from the Go module proxy, cached here.
      if [ -z "$have" ] || [ "$(printf '%s\n%s\n' "$have" 1.21 | sort -V | head -1)" != 1.21 ]; then
        case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) missing "go (no toolchain for $(uname -m))" ;; esac
        dir=$CACHE/go/toolchain-$need
        if [ ! -x "$dir/bin/go" ]; then
          command -v curl >/dev/null && command -v unzip >/dev/null || missing "go (and curl/unzip to fetch it)"
          curl -fsSL "https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go$need.linux-$arch.zip" -o "$CACHE/go/toolchain.zip"
          rm -rf "$dir.tmp" && unzip -q -d "$dir.tmp" "$CACHE/go/toolchain.zip" && rm "$CACHE/go/toolchain.zip"
          mv "$dir.tmp/golang.org/toolchain@v0.0.1-go$need.linux-$arch" "$dir" && rm -rf "$dir.tmp"
          chmod +x "$dir"/bin/* "$dir"/pkg/tool/*/* 2>/dev/null || true
        fi
        GO=$dir/bin/go
      fi
      (cd "$CLIENTS/go" && "$GO" build -o "$bin.tmp" . >&2) && mv "$bin.tmp" "$bin"
    fi
    echo "$bin"
    ;;
  java)
    command -v javac >/dev/null || missing "javac"
    command -v mvn >/dev/null || missing "mvn"
    jar=$CACHE/java/sentry-$SENTRY_JAVA_VERSION.jar
    if [ ! -f "$jar" ]; then
      mvn -q -B dependency:copy "-Dartifact=io.sentry:sentry:$SENTRY_JAVA_VERSION" \
        "-DoutputDirectory=$CACHE/java" >&2
    fi
    out=$CACHE/java/classes-$(stamp "$CLIENTS/java/Check.java" <(echo "$SENTRY_JAVA_VERSION"))
    if [ ! -f "$out/Check.class" ]; then
      mkdir -p "$out.tmp"
      javac -nowarn -d "$out.tmp" -cp "$jar" "$CLIENTS/java/Check.java" >&2
      rm -rf "$out" && mv "$out.tmp" "$out"
    fi
    echo "java -cp $out:$jar Check"
    ;;
  versions)
    echo "{\"sentry-sdk\":\"$SENTRY_PYTHON_VERSION\",\"raygun4py\":\"$RAYGUN4PY_VERSION\",\"sentry-java\":\"$SENTRY_JAVA_VERSION\",\"sentry-go\":\"$(awk '/getsentry\/sentry-go v/{print $NF}' "$CLIENTS/go/go.mod")\"}"
    ;;
  *)
    echo "usage: $0 python|go|java|versions" >&2
    exit 2
    ;;
esac
