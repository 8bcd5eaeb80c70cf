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
# Environment: ES_VERSION (default 9.4.3, same as the @elastic/elasticsearch client), ES_PORT (9200),
# ES_JAVA_HOME (Temurin 25: 9.x needs Java 21+), ES_HEAP (512m), ES_START_TIMEOUT seconds (120),
# ES_USER (sluice-es): Elasticsearch refuses to run as root, so as root (CI, dev boxes) the script
# creates this system user and runs the node as it.
set -euo pipefail
cd "$(dirname "$0")/.."

ES_VERSION="${ES_VERSION:-9.4.3}"
ES_PORT="${ES_PORT:-9200}"
ES_HEAP="${ES_HEAP:-512m}"
ES_START_TIMEOUT="${ES_START_TIMEOUT:-120}"
ES_JAVA_HOME="${ES_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
ES_USER="${ES_USER:-sluice-es}"
ARTIFACT="org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ES_VERSION}:zip"
CACHE="$PWD/.cache/elasticsearch"
HOME_DIR="$CACHE/elasticsearch-${ES_VERSION}"
RUN_DIR="$CACHE/run-${ES_PORT}"
PIDFILE="$RUN_DIR/es.pid"
URL="http://127.0.0.1:${ES_PORT}"

die() { echo "elasticsearch.sh: $*" >&2; exit 1; }

fetch() {
  [ -x "$HOME_DIR/bin/elasticsearch" ] && return 0
  command -v mvn >/dev/null || die "mvn not found (needed to fetch $ARTIFACT)"
  command -v unzip >/dev/null || die "unzip not found"
  mkdir -p "$CACHE"
  local zip="$CACHE/elasticsearch-${ES_VERSION}.zip"
  if [ ! -s "$zip" ]; then
    echo "fetching $ARTIFACT from Maven Central" >&2
    # The stock dependency plugin (2.8) cannot copy a zip without a pom; pin a modern one.
    mvn -q -B org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
      -Dartifact="$ARTIFACT" -DoutputDirectory="$CACHE" -Dmdep.overWriteIfNewer=true >&2 \
      || die "could not fetch $ARTIFACT"
  fi
  rm -rf "$HOME_DIR.tmp" && mkdir -p "$HOME_DIR.tmp"
  unzip -q "$zip" -d "$HOME_DIR.tmp" || die "could not unzip $zip"
  mv "$HOME_DIR.tmp/elasticsearch-${ES_VERSION}" "$HOME_DIR" && rmdir "$HOME_DIR.tmp"
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
  [ -x "$ES_JAVA_HOME/bin/java" ] || die "no Java at ES_JAVA_HOME=$ES_JAVA_HOME (Elasticsearch 9 needs 21+)"
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
  "${as[@]}" env ES_JAVA_HOME="$ES_JAVA_HOME" ES_JAVA_OPTS="-Xms${ES_HEAP} -Xmx${ES_HEAP}" \
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
  *) die "usage: $0 fetch|start|stop|status|url" ;;
esac
