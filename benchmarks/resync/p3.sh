#!/usr/bin/env bash
# P3 (docs/PERFORMANCE.md): resync of a 2 GiB disk image of realistic mixed data whose source has
# 1 % of its 4 KiB blocks changed at random since the replica was copied. Ours: agent -> process
# server -> master target in one JVM on loopback (TLS 1.3), the replica pre-seeded (initial
# replication compares and sends the differences). Peer, in the same run on the same pair of
# files: `rsync --inplace --no-whole-file -B4096 SRC DST`. Prints wall times, their ratio
# ours/rsync, and bytes sent vs changed bytes; both results are checked by SHA-256.
#
# Ours first runs the same resync, untimed, into another copy of the replica in the same JVM
# (WARMUP=full, WARMUP_ROUNDS=3 times), so that the timed run meets compiled code as a long-running appliance does;
# WARMUP=small uses a generated 512 MiB pair instead (as P1 does), WARMUP=none nothing.
#
# Usage: benchmarks/resync/p3.sh       (from anywhere; env: SIZE_MIB=2048 PERCENT=1 RUNS=2 BUILD=1
#                                       WARMUP=full WARMUP_ROUNDS=3 WORKDIR=<temp dir> KEEP=0 JAVA_OPTS=...)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SIZE_MIB="${SIZE_MIB:-2048}"
PERCENT="${PERCENT:-1}"
RUNS="${RUNS:-2}"
BUILD="${BUILD:-1}"
KEEP="${KEEP:-0}"
WARMUP="${WARMUP:-full}"
WARMUP_ROUNDS="${WARMUP_ROUNDS:-3}"
JAVA_OPTS="${JAVA_OPTS:--Xms1g -Xmx2g}"
CLASSES="$HERE/target/classes"
CP_FILE="$ROOT/bundles/org.secondsite.mastertarget/target/p3-classpath.txt"

for tool in java javac mvn rsync sha256sum cp; do
  command -v "$tool" >/dev/null || { echo "p3.sh: '$tool' is required" >&2; exit 2; }
done

if [[ "$BUILD" == 1 ]]; then
  echo "== building the pipeline bundles in the reactor (no install) and the harness"
  # The master target's test classpath holds every bundle the harness needs (agent, process server,
  # tls, file storage, lz4, testkit), resolved from this tree's reactor, not from ~/.m2.
  (cd "$ROOT" && mvn -q -o package dependency:build-classpath -DskipTests -Dmdep.includeScope=test \
      -Dmdep.outputFile=target/p3-classpath.txt -pl bundles/org.secondsite.mastertarget -am)
  rm -rf "$CLASSES" && mkdir -p "$CLASSES"
  javac -d "$CLASSES" -cp "$(cat "$CP_FILE"):$ROOT/bundles/org.secondsite.mastertarget/target/classes" \
      "$HERE"/src/main/java/org/secondsite/benchmarks/resync/*.java
fi
CP="$CLASSES:$(cat "$CP_FILE"):$ROOT/bundles/org.secondsite.mastertarget/target/classes"
p3() { java $JAVA_OPTS -cp "$CP" org.secondsite.benchmarks.resync.P3 "$@"; }

WORK="${WORKDIR:-$(mktemp -d /var/tmp/secondsite-p3.XXXXXX)}"
mkdir -p "$WORK"
cleanup() { if [[ "$KEEP" != 1 ]]; then rm -rf "$WORK"; fi; }
trap cleanup EXIT
BASE="$WORK/base.img"
SRC="$WORK/source.img"
BYTES=$((SIZE_MIB * 1024 * 1024))

echo "== generating $SIZE_MIB MiB of mixed data (binaries + text) into $BASE"
p3 generate "$BASE" "$BYTES"
cp "$BASE" "$SRC"
CHANGED_LINE="$(p3 mutate "$SRC" "$PERCENT" 42)"
CHANGED="$(sed -E 's/.*bytes=([0-9]+).*/\1/' <<<"$CHANGED_LINE")"
WANT="$(sha256sum "$SRC" | cut -d' ' -f1)"
echo "source: $PERCENT % of its 4 KiB blocks changed at random ($CHANGED_LINE); sha256 $WANT"

now() { date +%s.%N; }

peer() {
  local dst="$WORK/dst-rsync.img" t0 t1 stats got literal sent
  cp "$BASE" "$dst"
  sync
  t0=$(now)
  stats="$(rsync --inplace --no-whole-file -B4096 --stats "$SRC" "$dst")"
  t1=$(now)
  got="$(sha256sum "$dst" | cut -d' ' -f1)"
  rm -f "$dst"
  if [[ "$got" != "$WANT" ]]; then
    echo "rsync: result sha256 $got != source $WANT" >&2
    return 1
  fi
  literal="$(grep -E '^Literal data:' <<<"$stats" | tr -dc '0-9')"
  sent="$(grep -E '^Total bytes sent:' <<<"$stats" | tr -dc '0-9')"
  echo "rsync: literal data $literal B, total sent $sent B" >&2
  awk -v a="$t0" -v z="$t1" -v l="$literal" -v s="$sent" 'BEGIN { printf "%.3f %d %d", z - a, l, s }'
}

ours() {
  local dst="$WORK/dst-ours.img" warm="" opts="" line
  rm -rf "$WORK/ours"
  cp "$BASE" "$dst"
  case "$WARMUP" in
    full)
      for r in $(seq 1 "$WARMUP_ROUNDS"); do
        cp "$BASE" "$WORK/dst-warm$r.img"
        warm="${warm:+$warm,}$WORK/dst-warm$r.img"
      done ;;
    none) opts="-Dp3.warmupBytes=0" ;;
  esac
  sync
  java $JAVA_OPTS $opts -cp "$CP" org.secondsite.benchmarks.resync.P3 ours "$SRC" "$dst" "$WORK/ours" "$WANT" $warm \
      >"$WORK/ours.log" 2>&1 || true
  grep '^ours:\|^RESULT\|Exception\|Error' "$WORK/ours.log" >&2 || true
  line="$(grep '^RESULT' "$WORK/ours.log" || true)"
  rm -rf "$WORK/ours" "$dst" "$WORK"/dst-warm*.img
  [[ "$line" == *"ok=true"* ]] || { echo "ours: run failed or replica hash mismatch (output above)" >&2; return 1; }
  sed -E 's/.*ours_seconds=([0-9.]+) sent=([0-9]+) wire=([0-9]+).*/\1 \2 \3/' <<<"$line"
}

echo "== $RUNS round(s), each: rsync then ours, on $(nproc) cores"
declare -a P O
for i in $(seq 1 "$RUNS"); do
  read -r pt pl ps <<<"$(peer)"
  read -r ot os ow <<<"$(ours)"
  P+=("$pt"); O+=("$ot")
  awk -v i="$i" -v o="$ot" -v p="$pt" -v os="$os" -v ow="$ow" -v pl="$pl" -v ps="$ps" -v c="$CHANGED" 'BEGIN {
    printf "round %d: ours %.2f s, rsync %.2f s, ratio %.2f; sent: ours %d B data (%.3f x changed), %d B frames; rsync %d B literal, %d B total (%.3f x changed); changed %d B\n",
      i, o, p, o / p, os, os / c, ow, pl, ps, ps / c, c }'
done
printf '%s\n' "${O[@]}" | paste -sd' ' | awk -v peers="$(printf '%s ' "${P[@]}")" '{
  n = split($0, o, " "); split(peers, p, " "); so = 0; sp = 0
  for (i = 1; i <= n; i++) { so += o[i]; sp += p[i] }
  printf "P3 mean of %d: ours %.2f s, rsync %.2f s, ratio %.2f\n", n, so / n, sp / n, so / sp }'
