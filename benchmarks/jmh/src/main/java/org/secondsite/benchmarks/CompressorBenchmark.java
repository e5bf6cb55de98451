package org.secondsite.benchmarks;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

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
import org.openjdk.jmh.annotations.TearDown;
import org.secondsite.api.compress.Compressor;
import org.secondsite.compress.lz4.internal.Lz4Codec;
import org.secondsite.compress.zstd.internal.ZstdCodec;

/**
 * The compressor plugins on 1 MiB of mixed data in direct buffers (what the batch codec
 * hands them). One operation = 1 MiB: MB/s = ops/s x 1.05.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
public class CompressorBenchmark {
    static final int SIZE = 1 << 20;

    /** lz4 (native JNI), lz4java (pure-Java fallback), zstd level 1. */
    @Param({"lz4", "lz4java", "zstd"})
    public String compressor;

    private Compressor codec;
    private ByteBuffer src;
    private ByteBuffer compressed;
    private ByteBuffer dst;
    private ByteBuffer compressTarget;
    private int compressedLength;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        codec = switch (compressor) {
            case "lz4" -> Lz4Codec.create();
            case "lz4java" -> Lz4Codec.javaOnly("benchmark");
            default -> new ZstdCodec(1);
        };
        if (codec instanceof Lz4Codec l) {
            System.out.printf("%n%s runs the %s implementation%n", compressor, l.implementation());
        }
        src = ByteBuffer.allocateDirect(SIZE).put(MixedData.generate(7, SIZE)).flip();
        compressed = ByteBuffer.allocateDirect(codec.maxCompressedLength(SIZE));
        compressedLength = codec.compress(src.duplicate(), compressed);
        compressed.flip();
        dst = ByteBuffer.allocateDirect(SIZE);
        compressTarget = ByteBuffer.allocateDirect(codec.maxCompressedLength(SIZE));
        System.out.printf("%s: %d -> %d bytes (ratio %.2f)%n", compressor, SIZE, compressedLength, (double) SIZE / compressedLength);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (codec instanceof ZstdCodec z) {
            z.close();
        }
    }

    @Benchmark
    public int compress() throws Exception {
        compressTarget.clear();
        return codec.compress(src.duplicate(), compressTarget);
    }

    @Benchmark
    public ByteBuffer decompress() throws Exception {
        dst.clear();
        codec.decompress(compressed.duplicate(), dst, SIZE);
        return dst;
    }
}
