package org.secondsite.benchmarks;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * CRC32C (the record and frame checksum) over 1 MiB of mixed data, in blocks of the given
 * size, heap and direct. One operation = 1 MiB: MB/s = ops/s x 1.05.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
public class Crc32cBenchmark {
    static final int SIZE = 1 << 20;

    @Param({"4096", "1048576"})
    public int block;

    @Param({"heap", "direct"})
    public String memory;

    private ByteBuffer data;
    private final CRC32C crc = new CRC32C();

    @Setup(Level.Trial)
    public void setUp() {
        byte[] bytes = MixedData.generate(3, SIZE);
        data = memory.equals("direct") ? ByteBuffer.allocateDirect(SIZE).put(bytes).flip() : ByteBuffer.wrap(bytes);
    }

    @Benchmark
    public long crc32c() {
        long acc = 0;
        ByteBuffer view = data.duplicate();
        for (int off = 0; off < SIZE; off += block) {
            crc.reset();
            view.limit(off + block).position(off);
            crc.update(view);
            acc += crc.getValue();
        }
        return acc;
    }
}
