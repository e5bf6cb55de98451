#!/usr/bin/env bash
# P5 (docs/PERFORMANCE.md): time from the export of a recovery point until a real NBD client
# (qemu-io, started as a new process) has read 4 KiB from the view, for 1 GiB and 10 GiB disks
# replicated agent -> process server -> master target with 256 MiB of random 64 KiB writes on each
# side of the point (thousands of undo entries after it); beside qemu's own point-in-time
# mechanism: a qcow2 image of the same size and write pattern with an internal snapshot
# (`qemu-img snapshot -c`), timed from starting `qemu-nbd -r -l <snapshot>` until the same client
# read succeeds. Median of ROUNDS per side; ratio = ours / peer (lower is better). Also checks a
# 64 MiB range of the export against openView (SHA-256). The load average is sampled every 5 s.
#
# Usage: benchmarks/e2e/p5.sh   (env: SIZES_GIB=1,10 ROUNDS=5 BUILD=1
#                                 WORKDIR=<temp dir under /var/tmp> KEEP=0 JAVA_OPTS=...)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SIZES_GIB="${SIZES_GIB:-1,10}"
ROUNDS="${ROUNDS:-5}"
BUILD="${BUILD:-1}"
KEEP="${KEEP:-0}"
JAVA_OPTS="${JAVA_OPTS:--Xms1g -Xmx2g}"

for tool in java mvn qemu-io qemu-img qemu-nbd; do
  command -v "$tool" >/dev/null || { echo "p5.sh: '$tool' is required" >&2; exit 2; }
done

if [[ "$BUILD" == 1 ]]; then
  echo "== packaging the harness (the pipeline bundles are taken from ~/.m2)"
  (cd "$ROOT" && mvn -q -o -f benchmarks/e2e/pom.xml package)
fi
JAR="$HERE/target/p1.jar"
[[ -f "$JAR" ]] || { echo "p5.sh: $JAR missing; run with BUILD=1" >&2; exit 2; }

WORK="${WORKDIR:-$(mktemp -d /var/tmp/secondsite-p5.XXXXXX)}"
mkdir -p "$WORK"
LOADS="$WORK/loadavg"
sampler=""
cleanup() {
  if [[ -n "$sampler" ]]; then kill "$sampler" 2>/dev/null || true; fi
  if [[ "$KEEP" != 1 ]]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

echo "== P5: disks of ${SIZES_GIB} GiB, ${ROUNDS} rounds per side, on $(nproc) cores"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
( while :; do cut -d' ' -f1 /proc/loadavg >>"$LOADS"; sleep 5; done ) &
sampler=$!

rc=0
java $JAVA_OPTS -cp "$JAR" org.secondsite.benchmarks.e2e.P5 "$WORK/run" "$SIZES_GIB" "$ROUNDS" \
  >"$WORK/p5.log" 2>&1 || rc=$?
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
sampler=""
grep -v '^INFO\|^WARNING\|^\[\|^[A-Z][a-z][a-z] [0-9]' "$WORK/p5.log" | grep -v '^RESULT' || true
load="$(sort -n "$LOADS" | awk '{ a[NR] = $1; s += $1 } END { if (NR) printf "load_min=%.2f load_mean=%.2f load_max=%.2f", a[1], s / NR, a[NR] }')"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
if ! grep -q '^RESULT' "$WORK/p5.log" || [[ "$rc" != 0 ]]; then
  echo "p5.sh: the run failed (exit $rc); log: $WORK/p5.log" >&2
  tail -30 "$WORK/p5.log" >&2
  exit 1
fi
grep '^RESULT' "$WORK/p5.log" | sed "s/\$/ $load/"
