#!/usr/bin/env bash
# A real, local Elasticsearch for the search tests and benchmarks: the integ-test zip from Maven
# Central (no x-pack security, so plain HTTP without auth), cached and run under .cache/elasticsearch.
#
#   bash scripts/elasticsearch.sh fetch    download + unzip (idempotent)
#   bash scripts/elasticsearch.sh start    fetch if needed, start, wait for yellow/green health
#   bash scripts/elasticsearch.sh stop     stop the node started by `start`
#   bash scripts/elasticsearch.sh status   exit 0 when it answers, 1 otherwise
#   bash scripts/elasticsearch.sh url      print http://127.0.0.1:$ES_PORT
#
#   bash scripts/elasticsearch.sh java     print the Java home it would use (21 or newer), or fail
#
# Environment: ES_VERSION (default 9.4.3, same as the @elastic/elasticsearch client), ES_PORT (9200),
# ES_JAVA_HOME (a JDK 21+; else found from JAVA_HOME, `java` on PATH and the usual JVM folders),
# ES_HEAP (512m), ES_START_TIMEOUT seconds (120), MAVEN_CENTRAL (https://repo1.maven.org/maven2),
# ES_USER (sluice-es): Elasticsearch refuses to run as root, so as root (CI, dev boxes) the script
# creates this system user and runs the node as it.
set -euo pipefail
cd "$(dirname "$0")/.."

ES_VERSION="${ES_VERSION:-9.4.3}"
ES_PORT="${ES_PORT:-9200}"
ES_HEAP="${ES_HEAP:-512m}"
ES_START_TIMEOUT="${ES_START_TIMEOUT:-120}"
ES_USER="${ES_USER:-sluice-es}"
MAVEN_CENTRAL="${MAVEN_CENTRAL:-https://repo1.maven.org/maven2}"
# The integ-test distribution: no x-pack security, plain HTTP; a plain file on Maven Central.
ZIP_URL="$MAVEN_CENTRAL/org/elasticsearch/distribution/integ-test-zip/elasticsearch/${ES_VERSION}/elasticsearch-${ES_VERSION}.zip"
CACHE="$PWD/.cache/elasticsearch"
HOME_DIR="$CACHE/elasticsearch-${ES_VERSION}"
RUN_DIR="$CACHE/run-${ES_PORT}"
PIDFILE="$RUN_DIR/es.pid"
URL="http://127.0.0.1:${ES_PORT}"

die() { echo "elasticsearch.sh: $*" >&2; exit 1; }

fetch() {
  [ -x "$HOME_DIR/bin/elasticsearch" ] && return 0
  command -v curl >/dev/null || die "curl not found (apt-get install curl)"
  command -v unzip >/dev/null || die "unzip not found (apt-get install unzip)"
  mkdir -p "$CACHE"
  local zip="$CACHE/elasticsearch-${ES_VERSION}.zip"
  if [ ! -s "$zip" ]; then
    echo "fetching Elasticsearch ${ES_VERSION} (~120 MB, once) from $ZIP_URL" >&2
    # A progress bar on a terminal; in CI (no terminal) curl stays quiet but still reports errors.
    local progress=(-sS)
    [ -t 2 ] && progress=(--progress-bar)
    curl -fL --retry 3 "${progress[@]}" -o "$zip.part" "$ZIP_URL" || { rm -f "$zip.part"; die "could not fetch $ZIP_URL"; }
    mv "$zip.part" "$zip"
  fi
  rm -rf "$HOME_DIR.tmp" && mkdir -p "$HOME_DIR.tmp"
  unzip -q "$zip" -d "$HOME_DIR.tmp" || { rm -f "$zip"; die "could not unzip $zip (removed; run again)"; }
  mv "$HOME_DIR.tmp/elasticsearch-${ES_VERSION}" "$HOME_DIR" && rmdir "$HOME_DIR.tmp"
}

# The major version of the JDK at $1 (0 when there is none).
java_major() {
  [ -x "$1/bin/java" ] || { echo 0; return; }
  "$1/bin/java" -version 2>&1 | sed -nE '1s/.*version "(1\.)?([0-9]+).*/\2/p' | grep -E '^[0-9]+$' || echo 0
}

# A JDK 21+ for Elasticsearch 9: ES_JAVA_HOME if set (and it must be 21+), else the first 21+ of
# JAVA_HOME, the `java` on PATH and the usual JVM folders (newest first).
find_java() {
  if [ -n "${ES_JAVA_HOME:-}" ]; then
    [ "$(java_major "$ES_JAVA_HOME")" -ge 21 ] || die "ES_JAVA_HOME=$ES_JAVA_HOME is not a JDK 21 or newer"
    echo "$ES_JAVA_HOME"; return
  fi
  local candidates=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  if command -v java >/dev/null; then candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"); fi
  local d
  for d in $(ls -d /usr/lib/jvm/* /opt/java/* /usr/local/opt/openjdk*/libexec/openjdk.jdk/Contents/Home \
    /Library/Java/JavaVirtualMachines/*/Contents/Home 2>/dev/null | sort -rV); do candidates+=("$d"); done
  for d in "${candidates[@]}"; do
    if [ "$(java_major "$d")" -ge 21 ]; then echo "$d"; return; fi
  done
  die "no Java 21+ found (looked at ES_JAVA_HOME, JAVA_HOME, PATH, /usr/lib/jvm): install one, e.g. apt-get install openjdk-21-jdk-headless or temurin-21-jdk, or set ES_JAVA_HOME"
}

healthy() {
  curl -fsS --max-time 2 "$URL/_cluster/health" 2>/dev/null | grep -Eq '"status":"(green|yellow)"'
}

running_pid() {
  [ -f "$PIDFILE" ] || return 1
  local pid; pid=$(cat "$PIDFILE")
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

start() {
  if running_pid >/dev/null && healthy; then echo "already running at $URL" >&2; return 0; fi
  if healthy; then die "something else already answers at $URL (not started by this script)"; fi
  local java_home; java_home=$(find_java)
  fetch
  mkdir -p "$RUN_DIR/data" "$RUN_DIR/logs"
  local as=()
  if [ "$(id -u)" = 0 ]; then
    id "$ES_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$ES_USER" \
      || die "cannot create user $ES_USER (Elasticsearch refuses to run as root)"
    # The node writes its keystore under config/ and its data, logs and pidfile under RUN_DIR.
    chown -R "$ES_USER" "$HOME_DIR" "$RUN_DIR"
    as=(runuser -u "$ES_USER" --)
  fi
  # Disk watermarks off: a nearly full dev disk must not turn the test index read-only.
  "${as[@]}" env ES_JAVA_HOME="$java_home" ES_JAVA_OPTS="-Xms${ES_HEAP} -Xmx${ES_HEAP}" \
    "$HOME_DIR/bin/elasticsearch" -d -p "$PIDFILE" \
    -E discovery.type=single-node \
    -E network.host=127.0.0.1 \
    -E http.port="$ES_PORT" \
    -E transport.port=0 \
    -E path.data="$RUN_DIR/data" \
    -E path.logs="$RUN_DIR/logs" \
    -E cluster.routing.allocation.disk.threshold_enabled=false \
    -E cluster.name=sluice-test \
    -E xpack.security.enabled=false \
    >"$RUN_DIR/stdout.log" 2>&1 || { tail -n 40 "$RUN_DIR/stdout.log" >&2; die "elasticsearch failed to launch"; }
  local waited=0
  until healthy; do
    if ! running_pid >/dev/null && [ "$waited" -gt 5 ]; then
      tail -n 40 "$RUN_DIR/logs/sluice-test.log" "$RUN_DIR/stdout.log" >&2 2>/dev/null || true
      die "elasticsearch exited during startup"
    fi
    if [ "$waited" -ge "$ES_START_TIMEOUT" ]; then
      tail -n 40 "$RUN_DIR/logs/sluice-test.log" >&2 2>/dev/null || true
      stop || true
      die "elasticsearch not healthy after ${ES_START_TIMEOUT}s"
    fi
    sleep 1; waited=$((waited + 1))
  done
  echo "elasticsearch ${ES_VERSION} up at $URL (pid $(cat "$PIDFILE"))" >&2
}

stop() {
  local pid
  if ! pid=$(running_pid); then echo "not running" >&2; rm -f "$PIDFILE"; return 0; fi
  kill "$pid"
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || { rm -f "$PIDFILE"; echo "stopped" >&2; return 0; }; sleep 1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
  echo "killed" >&2
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status) if healthy; then echo "up at $URL"; else echo "down" >&2; exit 1; fi ;;
  url) echo "$URL" ;;
  java) find_java ;;
  *) die "usage: $0 fetch|start|stop|status|url|java" ;;
esac
