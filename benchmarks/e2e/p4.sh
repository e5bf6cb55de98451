#!/usr/bin/env bash
# P4 (docs/PERFORMANCE.md): RPO under churn. fio (ioengine=nbd, a real NBD client) writes 4 KiB
# random blocks at RATE through the nbd capture driver into a 1 GiB disk replicated agent ->
# process server -> master target (TLS 1.3, lz4, durable spool, retention journal); every 100 ms
# the RPO is sampled as now minus the time of the newest recovery point listed at the master
# target. Prints p50/p99/max and, at the end, whether the newest point's view equals the source
# (SHA-256). No local peer: Zerto (~5 s checkpoints) and Azure Site Recovery (5 min
# crash-consistent points) are named as references in docs/PERFORMANCE.md.
# The load average is sampled every 5 s during the run (the machine is shared) and reported.
#
# Usage: benchmarks/e2e/p4.sh   (env: SECONDS_RUN=60 RATE=20m CHECKPOINT_MS=1000 BUILD=1
#                                 WORKDIR=<temp dir under /var/tmp> KEEP=0 JAVA_OPTS=...)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SECONDS_RUN="${SECONDS_RUN:-60}"
RATE="${RATE:-20m}"
CHECKPOINT_MS="${CHECKPOINT_MS:-1000}"
BUILD="${BUILD:-1}"
KEEP="${KEEP:-0}"
JAVA_OPTS="${JAVA_OPTS:--Xms1g -Xmx2g}"

for tool in java mvn fio sha256sum; do
  command -v "$tool" >/dev/null || { echo "p4.sh: '$tool' is required" >&2; exit 2; }
done
fio --enghelp 2>/dev/null | grep -qw nbd || { echo "p4.sh: this fio has no nbd ioengine" >&2; exit 2; }

if [[ "$BUILD" == 1 ]]; then
  echo "== packaging the harness (the pipeline bundles are taken from ~/.m2)"
  (cd "$ROOT" && mvn -q -o -f benchmarks/e2e/pom.xml package)
fi
JAR="$HERE/target/p1.jar"
[[ -f "$JAR" ]] || { echo "p4.sh: $JAR missing; run with BUILD=1" >&2; exit 2; }

WORK="${WORKDIR:-$(mktemp -d /var/tmp/secondsite-p4.XXXXXX)}"
mkdir -p "$WORK"
LOADS="$WORK/loadavg"
sampler=""
cleanup() {
  if [[ -n "$sampler" ]]; then kill "$sampler" 2>/dev/null || true; fi
  if [[ "$KEEP" != 1 ]]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

echo "== P4: ${SECONDS_RUN} s of fio randwrite 4k at ${RATE}/s, checkpoint every ${CHECKPOINT_MS} ms, on $(nproc) cores"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
( while :; do cut -d' ' -f1 /proc/loadavg >>"$LOADS"; sleep 5; done ) &
sampler=$!

rc=0
java $JAVA_OPTS -cp "$JAR" org.secondsite.benchmarks.e2e.P4 "$WORK/run" "$SECONDS_RUN" "$RATE" "$CHECKPOINT_MS" \
  >"$WORK/p4.log" 2>&1 || rc=$?
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
sampler=""
grep -v '^INFO\|^WARNING\|^\[\|^[A-Z][a-z][a-z] [0-9]' "$WORK/p4.log" | grep -v '^RESULT' || true
line="$(grep '^RESULT' "$WORK/p4.log" || true)"
# fio terse v3: field 48 write bandwidth (KiB/s), 49 write IOPS
fio_bw="$(awk -F';' 'NF > 49 { printf "fio_write_kib_s=%d fio_write_iops=%d", $48, $49 }' "$WORK/run/fio.out" 2>/dev/null || true)"
load="$(sort -n "$LOADS" | awk '{ a[NR] = $1; s += $1 } END { if (NR) printf "load_min=%.2f load_mean=%.2f load_max=%.2f", a[1], s / NR, a[NR] }')"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ -z "$line" || "$rc" != 0 ]]; then
  echo "p4.sh: the run failed (exit $rc); log: $WORK/p4.log" >&2
  tail -30 "$WORK/p4.log" >&2
  exit 1
fi
echo "$line checkpoint_ms=$CHECKPOINT_MS rate=$RATE seconds=$SECONDS_RUN $fio_bw $load"
