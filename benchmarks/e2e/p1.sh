#!/usr/bin/env bash
# P1 (docs/PERFORMANCE.md): 2 GiB of realistic mixed data agent -> process server -> master
# target on loopback (TLS 1.3, lz4 on the WAN hop, fsync), and in the same run the peer
# pipeline `lz4 -1 | nc | lz4 -d | dd conv=fdatasync` on the same data file. Prints MB/s
# (10^6 bytes/s) of both and the ratio ours/peer for each round, then the means.
# The peer's sender uses `nc -N` (shut the socket down at end of input) rather than `-q1`,
# which would add a fixed idle second to the peer's time and flatter our ratio.
#
# Usage: benchmarks/e2e/p1.sh            (from anywhere; env: SIZE_MIB=2048 RUNS=2 PORT=39123
#                                         BUILD=1 WORKDIR=<temp dir> KEEP=0 JAVA_OPTS=...)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SIZE_MIB="${SIZE_MIB:-2048}"
RUNS="${RUNS:-2}"
PORT="${PORT:-39123}"
BUILD="${BUILD:-1}"
KEEP="${KEEP:-0}"
JAVA_OPTS="${JAVA_OPTS:--Xms2g -Xmx4g}"

for tool in java mvn lz4 nc dd sha256sum; do
  command -v "$tool" >/dev/null || { echo "p1.sh: '$tool' is required" >&2; exit 2; }
done

if [[ "$BUILD" == 1 ]]; then
  echo "== building the pipeline bundles and the harness"
  (cd "$ROOT" && mvn -q -o install -DskipTests -pl plugins-sdk/secondsite-testkit,bundles/org.secondsite.api,bundles/org.secondsite.wire,bundles/org.secondsite.compress.lz4,bundles/org.secondsite.transport.tls,bundles/org.secondsite.storage.file,bundles/org.secondsite.agent,bundles/org.secondsite.processserver,bundles/org.secondsite.mastertarget -am)
  (cd "$ROOT" && mvn -q -o -f benchmarks/e2e/pom.xml package)
fi
JAR="$HERE/target/p1.jar"

WORK="${WORKDIR:-$(mktemp -d /var/tmp/secondsite-p1.XXXXXX)}"
mkdir -p "$WORK"
cleanup() { if [[ "$KEEP" != 1 ]]; then rm -rf "$WORK"; fi; }
trap cleanup EXIT
DATA="$WORK/data.bin"
BYTES=$((SIZE_MIB * 1024 * 1024))

echo "== generating $SIZE_MIB MiB of mixed data (binaries + text) into $DATA"
java -cp "$JAR" org.secondsite.benchmarks.e2e.P1 generate "$DATA" "$BYTES"
WANT="$(sha256sum "$DATA" | cut -d' ' -f1)"
echo "data sha256 $WANT; lz4 -1 ratio: $(lz4 -1 -c "$DATA" | wc -c | awk -v n="$BYTES" '{printf "%.2f", n/$1}')"

now() { date +%s.%N; }

peer() {
  local out="$WORK/peer.out"
  rm -f "$out"
  ( nc -l 127.0.0.1 "$PORT" </dev/null | lz4 -d -c | dd of="$out" bs=1M conv=fdatasync status=none ) &
  local rx=$!
  for _ in $(seq 1 100); do
    ss -ltn 2>/dev/null | grep -q "127.0.0.1:$PORT " && break
    sleep 0.05
  done
  local t0 t1
  t0=$(now)
  lz4 -1 -c "$DATA" | nc -N 127.0.0.1 "$PORT"
  wait "$rx"
  t1=$(now)
  local got
  got="$(sha256sum "$out" | cut -d' ' -f1)"
  rm -f "$out"
  if [[ "$got" != "$WANT" ]]; then
    echo "peer: output sha256 $got != data $WANT" >&2
    return 1
  fi
  awk -v b="$BYTES" -v a="$t0" -v z="$t1" 'BEGIN { printf "%.1f", b / 1e6 / (z - a) }'
}

ours() {
  rm -rf "$WORK/ours"
  local line
  java $JAVA_OPTS -jar "$JAR" ours "$DATA" "$WORK/ours" "$WANT" >"$WORK/ours.log" 2>&1 || true
  grep -v '^INFO\|^[A-Z][a-z][a-z] [0-9]' "$WORK/ours.log" >&2
  line="$(grep '^RESULT' "$WORK/ours.log" || true)"
  rm -rf "$WORK/ours"
  [[ "$line" == *"ok=true"* ]] || { echo "ours: run failed or replica hash mismatch (output above)" >&2; return 1; }
  sed -E 's/.*ours_mbps=([0-9.]+).*/\1/' <<<"$line"
}

echo "== $RUNS round(s), each: peer then ours, on $(nproc) cores"
declare -a P O
for i in $(seq 1 "$RUNS"); do
  sync
  p="$(peer)"
  sync
  o="$(ours)"
  P+=("$p"); O+=("$o")
  awk -v i="$i" -v o="$o" -v p="$p" 'BEGIN { printf "round %d: ours %.1f MB/s, peer %.1f MB/s, ratio %.2f\n", i, o, p, o / p }'
done
printf '%s\n' "${O[@]}" | paste -sd' ' | awk -v peers="$(printf '%s ' "${P[@]}")" '{
  n = split($0, o, " "); split(peers, p, " "); so = 0; sp = 0
  for (i = 1; i <= n; i++) { so += o[i]; sp += p[i] }
  printf "P1 mean of %d: ours %.1f MB/s, peer %.1f MB/s, ratio %.2f\n", n, so / n, sp / n, so / sp }'
