package org.secondsite.benchmarks;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
import org.secondsite.api.model.ChangeRecord;
import org.secondsite.api.model.DeltaBatch;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.compress.lz4.internal.Lz4Codec;
import org.secondsite.compress.none.internal.NoneCompressor;
import org.secondsite.compress.zstd.internal.ZstdCodec;
import org.secondsite.wire.BatchDecoder;
import org.secondsite.wire.BatchEncoder;

/**
 * Encoding and decoding of a 4 MiB batch (256 writes of 16 KiB of mixed data) per
 * compressor. One operation = one batch: MB/s = ops/s x 4.19.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
public class BatchCodecBenchmark {
    static final int RECORDS = 256;
    static final int RECORD_SIZE = 16 * 1024;

    @Param({"none", "lz4", "zstd"})
    public String compressor;

    private Compressor codec;
    private DeltaBatch batch;
    private final BatchEncoder encoder = new BatchEncoder();
    private BatchDecoder decoder;
    private ByteBuffer out;
    private ByteBuffer frame;
    private ByteBuffer payload;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        codec = switch (compressor) {
            case "lz4" -> Lz4Codec.create();
            case "zstd" -> new ZstdCodec(1);
            default -> new NoneCompressor();
        };
        byte[] data = MixedData.generate(42, RECORDS * RECORD_SIZE);
        List<ChangeRecord> records = new ArrayList<>(RECORDS);
        for (int i = 0; i < RECORDS; i++) {
            ByteBuffer b = ByteBuffer.allocateDirect(RECORD_SIZE).put(data, i * RECORD_SIZE, RECORD_SIZE).flip();
            records.add(ChangeRecord.write((long) i * 7 * RECORD_SIZE, b));
        }
        Instant t = Instant.parse("2025-03-01T10:00:00Z");
        batch = new DeltaBatch(DiskId.of("vm-042:disk0"), GroupId.of("web-tier"), 1, t, t.plusMillis(200), records, List.of());
        out = ByteBuffer.allocateDirect(BatchEncoder.maxFrameLength(batch, codec));
        encoder.encode(batch, codec, out);
        frame = out.duplicate().flip();
        decoder = new BatchDecoder(Map.of(codec.name(), codec)::get);
        payload = ByteBuffer.allocateDirect(RECORDS * RECORD_SIZE);
        System.out.printf("%n%s: batch %d bytes -> frame %d bytes (ratio %.2f)%n", compressor, batch.dataBytes(),
                frame.remaining(), (double) batch.dataBytes() / frame.remaining());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (codec instanceof ZstdCodec z) {
            z.close();
        }
    }

    @Benchmark
    public int encode() throws Exception {
        out.clear();
        return encoder.encode(batch, codec, out);
    }

    @Benchmark
    public DeltaBatch decode() throws Exception {
        return decoder.decode(frame, len -> payload.clear());
    }
}
