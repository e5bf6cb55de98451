#!/usr/bin/env bash
# P6 (docs/PERFORMANCE.md): the configuration server under 1,000 simulated agents heartbeating every
# 10 s (spread evenly) plus list calls (GET /api/v1/components and /api/v1/alerts?active=true,
# alternately, LISTS per second), measured for DURATION s after WARMUP s. The server is the
# configuration server's plain classes and REST resource objects on an embedded Derby catalogue
# (default durability) in a temporary folder, behind the JDK's HTTP server (no CXF dispatch, no JAAS
# filter); clients are the JDK's HTTP client on loopback in the same JVM. Prints p50/p99/max latency
# of heartbeats and of lists, and checks that every component's last heartbeat was stored.
#
# Usage: benchmarks/controlplane/p6.sh   (from anywhere; env: AGENTS=1000 INTERVAL=10 DURATION=60
#                                        WARMUP=30 LISTS=4 DISKS=2 BUILD=1 WORKDIR=<temp dir> KEEP=0
#                                        JAVA_OPTS=...)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
AGENTS="${AGENTS:-1000}"
INTERVAL="${INTERVAL:-10}"
DURATION="${DURATION:-60}"
WARMUP="${WARMUP:-30}"
LISTS="${LISTS:-4}"
DISKS="${DISKS:-2}"
BUILD="${BUILD:-1}"
KEEP="${KEEP:-0}"
JAVA_OPTS="${JAVA_OPTS:--Xms512m -Xmx1g}"
MODULE="$ROOT/bundles/org.secondsite.configserver"
CLASSES="$HERE/target/classes"
CP_FILE="$MODULE/target/p6-classpath.txt"

for tool in java javac mvn; do
  command -v "$tool" >/dev/null || { echo "p6.sh: '$tool' is required" >&2; exit 2; }
done

if [[ "$BUILD" == 1 ]]; then
  echo "== building the configuration server in the reactor (no install) and the harness"
  # The configuration server's test class path holds Derby, Jackson, CXF (for javax.ws.rs Responses) and
  # the pki bundle, resolved from this tree's reactor, not from ~/.m2.
  (cd "$ROOT" && mvn -q -o package dependency:build-classpath -DskipTests -Dmdep.includeScope=test \
      -Dmdep.outputFile=target/p6-classpath.txt -pl bundles/org.secondsite.configserver -am)
  rm -rf "$CLASSES" && mkdir -p "$CLASSES"
  javac -d "$CLASSES" -cp "$(cat "$CP_FILE"):$MODULE/target/classes" \
      "$HERE"/src/main/java/org/secondsite/benchmarks/controlplane/*.java
fi
CP="$CLASSES:$MODULE/target/classes:$(cat "$CP_FILE")"

WORK="${WORKDIR:-$(mktemp -d /var/tmp/secondsite-p6.XXXXXX)}"
mkdir -p "$WORK"
cleanup() { if [[ "$KEEP" != 1 ]]; then rm -rf "$WORK"; fi; }
trap cleanup EXIT

echo "== machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
# shellcheck disable=SC2086
java $JAVA_OPTS -cp "$CP" org.secondsite.benchmarks.controlplane.P6 --agents "$AGENTS" --interval "$INTERVAL" \
    --duration "$DURATION" --warmup "$WARMUP" --lists-per-second "$LISTS" --disks "$DISKS" --workdir "$WORK"
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
