#!/usr/bin/env bash
# P2 benchmark: the nbd capture driver against qemu-nbd, same fio job, same run.
#
#   fio --ioengine=nbd, 4 KiB random writes, iodepth 32, several jobs (one NBD connection each),
#   time based, against
#     1. SecondSite's nbd capture driver, started by NbdServerMain from the module's test jar
#        (it serves the file with a sink that counts the change records and drops them), and
#     2. qemu-nbd --cache=writeback -f raw -t (the peer).
#   Prints both IOPS and the ratio ours/qemu-nbd. Information only: no threshold.
#
# Usage: benchmarks/nbd/p2-fio.sh   (builds the module if its jars are missing; fio's nbd engine
#        prints "connected to NBD server" lines before its JSON, which the parser skips)
# Tunables (environment): RUNTIME=10 NUMJOBS=4 IODEPTH=32 BS=4k SIZE=1G ROUNDS=1 WORKDIR=<tmp>
set -euo pipefail

RUNTIME=${RUNTIME:-10}
NUMJOBS=${NUMJOBS:-4}
IODEPTH=${IODEPTH:-32}
BS=${BS:-4k}
SIZE=${SIZE:-1G}
ROUNDS=${ROUNDS:-1}
OUR_PORT=${OUR_PORT:-10910}
QEMU_PORT=${QEMU_PORT:-10911}

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODULE=$ROOT/bundles/org.secondsite.capture.nbd
for tool in fio qemu-nbd nbdinfo java python3; do
  command -v "$tool" >/dev/null || { echo "p2-fio: $tool is not installed" >&2; exit 2; }
done
fio --enghelp 2>/dev/null | grep -qw nbd || { echo "p2-fio: this fio has no nbd engine" >&2; exit 2; }

VERSION=0.1.0-SNAPSHOT
JAR=$MODULE/target/org.secondsite.capture.nbd-$VERSION.jar
TESTJAR=$MODULE/target/org.secondsite.capture.nbd-$VERSION-tests.jar
if [[ ! -f $JAR || ! -f $TESTJAR ]]; then
  (cd "$ROOT" && mvn -q -o -f "$MODULE/pom.xml" install -DskipTests)
fi
M2=${M2_REPO:-$HOME/.m2/repository}
CP=$JAR:$TESTJAR:$M2/org/secondsite/org.secondsite.api/$VERSION/org.secondsite.api-$VERSION.jar
CP=$CP:$M2/org/secondsite/org.secondsite.nbd/$VERSION/org.secondsite.nbd-$VERSION.jar
CP=$CP:$M2/org/slf4j/slf4j-api/1.7.36/slf4j-api-1.7.36.jar:$M2/org/slf4j/slf4j-nop/1.7.36/slf4j-nop-1.7.36.jar
for f in ${CP//:/ }; do [[ -f $f ]] || { echo "p2-fio: missing $f (run mvn install on the api and nbd modules)" >&2; exit 2; }; done

WORKDIR=${WORKDIR:-$(mktemp -d /tmp/p2-fio.XXXXXX)}
SERVER_PID=
cleanup() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORKDIR"
}
trap cleanup EXIT

wait_for() { # uri
  for _ in $(seq 1 100); do
    nbdinfo --size "$1" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "p2-fio: no NBD server at $1" >&2; exit 1
}

run_fio() { # uri -> prints write IOPS
  fio --name=p2 --ioengine=nbd --uri="$1" --rw=randwrite --bs="$BS" --iodepth="$IODEPTH" \
      --numjobs="$NUMJOBS" --time_based --runtime="$RUNTIME" --norandommap --randrepeat=0 \
      --group_reporting --output-format=json \
    | python3 -c 'import json,sys; t=sys.stdin.read(); print(round(json.loads(t[t.index("{"):])["jobs"][0]["write"]["iops"]))'
}

stop_server() {
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
}

ours_total=0; qemu_total=0
echo "fio randwrite bs=$BS iodepth=$IODEPTH numjobs=$NUMJOBS runtime=${RUNTIME}s on a $SIZE raw file ($(nproc) cores)"
for round in $(seq 1 "$ROUNDS"); do
  rm -f "$WORKDIR/ours.img" "$WORKDIR/qemu.img"
  truncate -s "$SIZE" "$WORKDIR/ours.img" "$WORKDIR/qemu.img"

  java -cp "$CP" org.secondsite.capture.nbd.internal.NbdServerMain "$WORKDIR/ours.img" "127.0.0.1:$OUR_PORT" disk0 \
    > "$WORKDIR/ours.log" 2>&1 &
  SERVER_PID=$!
  wait_for "nbd://127.0.0.1:$OUR_PORT/disk0"
  ours=$(run_fio "nbd://127.0.0.1:$OUR_PORT/disk0")
  stop_server

  qemu-nbd --cache=writeback -f raw -t -b 127.0.0.1 -p "$QEMU_PORT" -x disk0 "$WORKDIR/qemu.img" \
    > "$WORKDIR/qemu.log" 2>&1 &
  SERVER_PID=$!
  wait_for "nbd://127.0.0.1:$QEMU_PORT/disk0"
  qemu=$(run_fio "nbd://127.0.0.1:$QEMU_PORT/disk0")
  stop_server

  echo "round $round: secondsite-nbd IOPS=$ours  qemu-nbd IOPS=$qemu"
  ours_total=$((ours_total + ours)); qemu_total=$((qemu_total + qemu))
done
python3 -c "o=$ours_total/$ROUNDS; q=$qemu_total/$ROUNDS; print(f'secondsite-nbd IOPS={o:.0f}  qemu-nbd IOPS={q:.0f}  ratio={o/q:.2f}')"
