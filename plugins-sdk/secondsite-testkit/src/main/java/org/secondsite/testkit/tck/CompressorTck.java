package org.secondsite.testkit.tck;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.secondsite.api.compress.CompressionException;
import org.secondsite.api.compress.Compressor;
import org.secondsite.testkit.TestData;
import org.secondsite.testkit.tck.Buffers.Kind;
import org.secondsite.testkit.tck.Buffers.Window;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AfterProperty;

/**
 * The compatibility kit of the {@link Compressor} extension point. A compressor plugin's test
 * extends it and supplies the compressor:
 *
 * <pre>
 * class MyCompressorTckTest extends CompressorTck {
 *     &#64;Override
 *     protected Compressor createCompressor() {
 *         return new MyCompressor();
 *     }
 * }
 * </pre>
 *
 * It checks what the {@link Compressor} javadoc promises: the name's syntax; round trips of
 * realistic, empty, tiny, incompressible, all-zero and 16 MiB inputs through heap, direct,
 * read-only and offset-sliced buffers; positions advanced as documented; output within
 * {@link Compressor#maxCompressedLength}; a too-small destination refused with
 * {@link CompressionException}; malformed, truncated and wrongly sized input refused with
 * {@link CompressionException} and never another exception nor a write outside the
 * destination's bounds; identical results from several threads at once; output that depends
 * only on the input. JUnit 5 tests and jqwik properties; both engines must be on the test
 * class path (they come with the test kit).
 *
 * <p>A compressor that is {@link AutoCloseable} is closed after each test.
 */
public abstract class CompressorTck {

    /** Realistic input sizes: a few KiB to 1 MiB, as in delta batches. */
    private static final int MIB = 1024 * 1024;

    private Compressor compressor;
    private final List<Compressor> created = new ArrayList<>();

    /**
     * A new instance of the compressor under test, ready to use (as its DS component would be
     * after activation). Called once per test, more often by the determinism test.
     */
    protected abstract Compressor createCompressor() throws Exception;

    /** The instance under test for the current test, created on first use. */
    protected final Compressor compressor() throws Exception {
        if (compressor == null) {
            compressor = newInstance();
        }
        return compressor;
    }

    private Compressor newInstance() throws Exception {
        Compressor c = createCompressor();
        assertNotNull(c, "createCompressor() returned null");
        created.add(c);
        return c;
    }

    @AfterEach
    @AfterProperty
    void closeCompressors() throws Exception {
        for (Compressor c : created) {
            if (c instanceof AutoCloseable closeable) {
                closeable.close();
            }
        }
        created.clear();
        compressor = null;
    }

    // ---------------------------------------------------------------- name

    @Test
    void nameIsOneToSixteenLowercaseLettersOrDigits() throws Exception {
        String name = compressor().name();
        assertNotNull(name, "name() must not be null");
        assertTrue(name.matches("[a-z0-9]{1,16}"),
                "name() must be 1 to 16 lowercase letters or digits (it is written into every batch), was '" + name + "'");
    }

    @Test
    void nameIsStableAcrossCallsAndInstances() throws Exception {
        String name = compressor().name();
        assertEquals(name, compressor().name(), "name() changed between calls");
        assertEquals(name, newInstance().name(), "two instances report different names");
    }

    // ---------------------------------------------------------------- round trips

    static Stream<Arguments> edgeInputs() {
        Random random = new Random(42);
        byte[] incompressible = new byte[MIB];
        random.nextBytes(incompressible);
        byte[] one = {(byte) 0xC3};
        byte[] tiny = {1, 2, 3, 4, 5, 6, 7};
        byte[] runs = new byte[100_000];
        for (int i = 0; i < runs.length; i++) {
            runs[i] = (byte) (i / 1000);
        }
        return Stream.of(
                Arguments.of("empty", new byte[0]),
                Arguments.of("1 byte", one),
                Arguments.of("7 bytes", tiny),
                Arguments.of("1 MiB incompressible random", incompressible),
                Arguments.of("1 MiB all zeros", new byte[MIB]),
                Arguments.of("100000 bytes of runs", runs),
                Arguments.of("4 KiB mixed", TestData.mixed(4096, 1)),
                Arguments.of("1 MiB mixed", TestData.mixed(MIB, 2)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("edgeInputs")
    void roundTripOfEdgeInputs(String what, byte[] data) throws Exception {
        roundTrip(what, data, Kind.HEAP, Kind.HEAP, Kind.HEAP);
        roundTrip(what, data, Kind.DIRECT, Kind.SLICED_DIRECT, Kind.SLICED_HEAP);
    }

    @Test
    void roundTripOfSixteenMebibytes() throws Exception {
        byte[] data = TestData.mixed(16 * MIB, 16);
        roundTrip("16 MiB mixed, heap", data, Kind.HEAP, Kind.HEAP, Kind.HEAP);
        roundTrip("16 MiB mixed, direct", data, Kind.DIRECT, Kind.DIRECT, Kind.DIRECT);
    }

    static Stream<Arguments> bufferKinds() {
        List<Arguments> all = new ArrayList<>();
        for (Kind src : Kind.values()) {
            for (Kind dst : Buffers.DESTINATIONS) {
                all.add(Arguments.of(src, dst));
            }
        }
        return all.stream();
    }

    /** Every source kind with every destination kind, for both compress and decompress. */
    @ParameterizedTest(name = "source {0}, destination {1}")
    @MethodSource("bufferKinds")
    void roundTripThroughEveryBufferKind(Kind src, Kind dst) throws Exception {
        byte[] data = TestData.mixed(200_000, 7);
        byte[] reference = compressHeap(compressor(), data);
        byte[] compressed = roundTrip("200000 bytes mixed", data, src, dst, dst);
        assertArrayEquals(reference, compressed,
                "output must depend only on the input, not on the kind of buffer holding it (" + src + " -> " + dst + ")");
        // decompress from every source kind too
        Window out = dst.window(data.length);
        ByteBuffer in = src.source(compressed);
        compressor().decompress(in, out.buffer, data.length);
        assertEquals(in.limit(), in.position(), "decompress must consume all of src (" + src + ")");
        out.assertGuardsIntact("decompress");
        assertArrayEquals(data, out.written(data.length), "decompressed bytes differ (" + src + " -> " + dst + ")");
    }

    @Property(tries = 200)
    void roundTripOfArbitraryBytes(@ForAll @Size(max = 70_000) byte[] data) throws Exception {
        roundTrip("arbitrary " + data.length + " bytes", data, Kind.HEAP, Kind.SLICED_HEAP, Kind.SLICED_DIRECT);
    }

    @Property(tries = 100)
    void roundTripOfRepetitiveBytes(@ForAll("repetitive") byte[] data) throws Exception {
        roundTrip("repetitive " + data.length + " bytes", data, Kind.SLICED_DIRECT, Kind.SLICED_DIRECT, Kind.SLICED_HEAP);
    }

    @Provide
    Arbitrary<byte[]> repetitive() {
        Arbitrary<byte[]> pattern = Arbitraries.bytes().between((byte) 0, (byte) 3).array(byte[].class).ofMinSize(1)
                .ofMaxSize(40);
        return pattern.flatMap(p -> Arbitraries.integers().between(0, 3000).map(times -> {
            byte[] out = new byte[p.length * times];
            for (int i = 0; i < times; i++) {
                System.arraycopy(p, 0, out, i * p.length, p.length);
            }
            return out;
        }));
    }

    // ---------------------------------------------------------------- maxCompressedLength and dst size

    @Test
    void maxCompressedLengthIsNeverNegative() throws Exception {
        for (int n : new int[] {0, 1, 2, 15, 16, 255, 256, 4096, 65_536, MIB, 16 * MIB, 256 * MIB, 1 << 30}) {
            int bound = compressor().maxCompressedLength(n);
            assertTrue(bound >= 0, "maxCompressedLength(" + n + ") is negative: " + bound);
        }
    }

    @Test
    void destinationOfExactlyMaxCompressedLengthIsEnough() throws Exception {
        for (byte[] data : new byte[][] {new byte[0], new byte[1], randomBytes(65_536, 3), new byte[65_536],
                TestData.mixed(65_536, 3)}) {
            int max = compressor().maxCompressedLength(data.length);
            Window w = Kind.SLICED_HEAP.window(max);
            int n = compressor().compress(Kind.HEAP.source(data), w.buffer);
            assertTrue(n <= max, "wrote " + n + " bytes, more than maxCompressedLength(" + data.length + ") = " + max);
            w.assertGuardsIntact("compress");
        }
    }

    @Test
    void destinationSmallerThanMaxCompressedLengthIsRefused() throws Exception {
        for (byte[] data : new byte[][] {new byte[1], randomBytes(65_536, 4), new byte[65_536],
                TestData.mixed(65_536, 4)}) {
            int max = compressor().maxCompressedLength(data.length);
            if (max == 0) {
                continue;
            }
            for (Kind kind : Buffers.DESTINATIONS) {
                Window w = kind.window(max - 1);
                ByteBuffer src = Kind.HEAP.source(data);
                assertThrows(CompressionException.class, () -> compressor().compress(src, w.buffer),
                        "a destination with " + (max - 1) + " bytes left, one less than maxCompressedLength("
                                + data.length + "), must be refused with CompressionException (" + kind + ")");
                w.assertGuardsIntact("refused compress");
            }
        }
    }

    // ---------------------------------------------------------------- malformed input

    @Test
    void truncatedInputIsRefused() throws Exception {
        for (byte[] data : new byte[][] {new byte[] {42}, TestData.mixed(65_536, 5), new byte[MIB],
                randomBytes(10_000, 5)}) {
            byte[] compressed = compressHeap(compressor(), data);
            for (int cut : new int[] {0, 1, compressed.length / 2, compressed.length - 1}) {
                if (cut < 0 || cut >= compressed.length) {
                    continue;
                }
                byte[] truncated = Arrays.copyOf(compressed, cut);
                for (Kind kind : new Kind[] {Kind.SLICED_HEAP, Kind.SLICED_DIRECT}) {
                    Window w = kind.window(data.length);
                    ByteBuffer src = Kind.HEAP.source(truncated);
                    assertThrows(CompressionException.class, () -> compressor().decompress(src, w.buffer, data.length),
                            "the first " + cut + " of " + compressed.length + " compressed bytes of a " + data.length
                                    + "-byte input must be refused with CompressionException (" + kind + ")");
                    w.assertGuardsIntact("decompress of truncated input");
                }
            }
        }
    }

    @Test
    void wrongOriginalLengthIsRefused() throws Exception {
        byte[] data = TestData.mixed(65_536, 6);
        byte[] compressed = compressHeap(compressor(), data);
        for (int wrong : new int[] {data.length - 1, data.length + 1, 0, 1, data.length / 2, data.length * 2}) {
            for (Kind kind : new Kind[] {Kind.SLICED_HEAP, Kind.SLICED_DIRECT}) {
                Window w = kind.window(wrong);
                assertThrows(CompressionException.class,
                        () -> compressor().decompress(Kind.HEAP.source(compressed), w.buffer, wrong),
                        "input that decompresses to " + data.length + " bytes must be refused with CompressionException"
                                + " when the original length is given as " + wrong + " (" + kind + ")");
                w.assertGuardsIntact("decompress with a wrong original length");
            }
        }
    }

    @Test
    void negativeOrHugeOriginalLengthIsRefused() throws Exception {
        byte[] compressed = compressHeap(compressor(), TestData.mixed(4096, 8));
        for (int wrong : new int[] {-1, Integer.MIN_VALUE, Integer.MAX_VALUE}) {
            Window w = Kind.SLICED_HEAP.window(8192);
            assertThrows(CompressionException.class,
                    () -> compressor().decompress(Kind.HEAP.source(compressed), w.buffer, wrong),
                    "original length " + wrong + " must be refused with CompressionException");
            w.assertGuardsIntact("decompress with original length " + wrong);
        }
    }

    /** Random bytes as compressed input: decoded (if they happen to be valid) or refused, never anything else. */
    @Property(tries = 300)
    void garbageIsDecodedOrRefusedWithinBounds(@ForAll @Size(max = 4096) byte[] garbage,
            @ForAll @IntRange(min = 0, max = 70_000) int originalLength, @ForAll boolean direct) throws Exception {
        decodeOrRefuse(garbage, originalLength, direct ? Kind.SLICED_DIRECT : Kind.SLICED_HEAP);
    }

    /** Valid compressed data with a few bytes changed: decoded or refused, never anything else. */
    @Property(tries = 300)
    void corruptedInputIsDecodedOrRefusedWithinBounds(@ForAll @Size(min = 1, max = 8) List<@IntRange(min = 0, max = 1 << 20) Integer> positions,
            @ForAll byte flip, @ForAll boolean direct, @ForAll @IntRange(min = 0, max = 3) int sample) throws Exception {
        byte[] data = SAMPLES[sample];
        byte[] compressed = compressHeap(compressor(), data);
        for (int p : positions) {
            compressed[p % compressed.length] ^= (flip == 0 ? 1 : flip);
        }
        decodeOrRefuse(compressed, data.length, direct ? Kind.SLICED_DIRECT : Kind.SLICED_HEAP);
    }

    private static final byte[][] SAMPLES = {TestData.mixed(20_000, 9), new byte[30_000], randomBytes(5_000, 9),
        TestData.mixed(1, 9)};

    private void decodeOrRefuse(byte[] input, int originalLength, Kind kind) throws Exception {
        Window w = kind.window(originalLength);
        ByteBuffer src = Kind.SLICED_HEAP.source(input);
        int srcStart = src.position();
        int dstStart = w.buffer.position();
        boolean accepted = false;
        try {
            compressor().decompress(src, w.buffer, originalLength);
            accepted = true;
        } catch (CompressionException expected) {
            assertNotNull(expected.getMessage(), "CompressionException without a message");
        } catch (Throwable e) {
            fail("decompress of malformed input (" + input.length + " bytes, original length " + originalLength
                    + ") must throw CompressionException, threw " + e, e);
        }
        if (accepted) {
            assertEquals(src.limit(), src.position(), "decompress accepted " + input.length + " bytes but did not"
                    + " consume all of src (it started at " + srcStart + ")");
            assertEquals(dstStart + originalLength, w.buffer.position(),
                    "decompress accepted the input but did not advance dst by the original length " + originalLength);
        }
        w.assertGuardsIntact("decompress of malformed input");
    }

    // ---------------------------------------------------------------- threads and determinism

    @Test
    void severalThreadsAtOnceGetTheSingleThreadedResults() throws Exception {
        Compressor c = compressor();
        List<byte[]> inputs = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            inputs.add(i % 4 == 3 ? randomBytes(64 * 1024 + i, i) : TestData.mixed(64 * 1024 * (i + 1), 100 + i));
        }
        List<byte[]> expected = new ArrayList<>();
        for (byte[] in : inputs) {
            expected.add(compressHeap(c, in));
        }
        int threads = 4;
        CyclicBarrier start = new CyclicBarrier(threads);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int seed = t;
                results.add(pool.submit(() -> {
                    List<Integer> order = new ArrayList<>();
                    for (int i = 0; i < inputs.size(); i++) {
                        order.add(i);
                    }
                    Collections.shuffle(order, new Random(seed));
                    start.await();
                    int checked = 0;
                    for (int round = 0; round < 4; round++) {
                        for (int i : order) {
                            boolean direct = (i + round + seed) % 2 == 0;
                            Kind kind = direct ? Kind.DIRECT : Kind.HEAP;
                            byte[] compressed = compress(c, inputs.get(i), kind, kind);
                            assertArrayEquals(expected.get(i), compressed,
                                    "compressing input " + i + " on several threads gave other bytes than on one");
                            Window out = kind.window(inputs.get(i).length);
                            c.decompress(kind.source(compressed), out.buffer, inputs.get(i).length);
                            assertArrayEquals(inputs.get(i), out.written(inputs.get(i).length),
                                    "decompressing input " + i + " on several threads gave other bytes");
                            checked++;
                        }
                    }
                    return checked;
                }));
            }
            int total = 0;
            for (Future<Integer> f : results) {
                total += f.get(5, TimeUnit.MINUTES); // a hang guard, not a performance threshold
            }
            assertEquals(threads * 4 * inputs.size(), total);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void outputDependsOnlyOnTheInput() throws Exception {
        byte[] data = TestData.mixed(300_000, 11);
        byte[] first = compressHeap(compressor(), data);
        // interleave other work, which must leave no state behind
        compressHeap(compressor(), randomBytes(100_000, 11));
        compressHeap(compressor(), new byte[50_000]);
        assertArrayEquals(first, compressHeap(compressor(), data), "the same input compressed twice differs");
        assertArrayEquals(first, compress(compressor(), data, Kind.DIRECT, Kind.DIRECT),
                "the same input compressed from a direct buffer differs");
        assertArrayEquals(first, compressHeap(newInstance(), data), "two instances compress the same input differently");
    }

    @Test
    void inputIsNotModified() throws Exception {
        byte[] data = TestData.mixed(100_000, 12);
        byte[] copy = data.clone();
        byte[] compressed = compressHeap(compressor(), data);
        assertArrayEquals(copy, data, "compress modified its input");
        byte[] compressedCopy = compressed.clone();
        Window out = Kind.HEAP.window(data.length);
        compressor().decompress(ByteBuffer.wrap(compressed), out.buffer, data.length);
        assertArrayEquals(compressedCopy, compressed, "decompress modified its input");
    }

    // ---------------------------------------------------------------- helpers

    /**
     * Compresses {@code data} from a {@code srcKind} buffer into a {@code dstKind} window, checks
     * positions, bound and guards, decompresses into an {@code outKind} window of exactly the
     * original size and compares. Returns the compressed bytes.
     */
    private byte[] roundTrip(String what, byte[] data, Kind srcKind, Kind dstKind, Kind outKind) throws Exception {
        Compressor c = compressor();
        byte[] compressed = compress(c, data, srcKind, dstKind);

        Window out = outKind.window(data.length);
        ByteBuffer in = srcKind.source(compressed);
        int inLimit = in.limit();
        int outStart = out.buffer.position();
        int outLimit = out.buffer.limit();
        c.decompress(in, out.buffer, data.length);
        assertEquals(inLimit, in.position(), what + ": decompress must consume all of src (" + srcKind + ")");
        assertEquals(inLimit, in.limit(), what + ": decompress changed src's limit");
        assertEquals(outStart + data.length, out.buffer.position(),
                what + ": decompress must advance dst by the original length (" + outKind + ")");
        assertEquals(outLimit, out.buffer.limit(), what + ": decompress changed dst's limit");
        out.assertGuardsIntact(what + ", decompress");
        assertArrayEquals(data, out.written(data.length), what + ": round trip changed the data (" + srcKind + " -> "
                + dstKind + " -> " + outKind + ")");
        return compressed;
    }

    private static byte[] compress(Compressor c, byte[] data, Kind srcKind, Kind dstKind) throws Exception {
        ByteBuffer src = srcKind.source(data);
        int srcLimit = src.limit();
        int max = c.maxCompressedLength(data.length);
        assertTrue(max >= 0, "maxCompressedLength(" + data.length + ") is negative: " + max);
        Window dst = dstKind.window(max);
        int dstStart = dst.buffer.position();
        int dstLimit = dst.buffer.limit();
        int n = c.compress(src, dst.buffer);
        assertTrue(n >= 0 && n <= max, "compress of " + data.length + " bytes returned " + n
                + ", outside 0..maxCompressedLength = " + max);
        assertEquals(srcLimit, src.position(), "compress must consume all of src (" + srcKind + ")");
        assertEquals(srcLimit, src.limit(), "compress changed src's limit");
        assertEquals(dstStart + n, dst.buffer.position(),
                "compress must advance dst by the number of bytes it returns (" + dstKind + ")");
        assertEquals(dstLimit, dst.buffer.limit(), "compress changed dst's limit");
        dst.assertGuardsIntact("compress");
        return dst.written(n);
    }

    private static byte[] compressHeap(Compressor c, byte[] data) throws Exception {
        return compress(c, data, Kind.HEAP, Kind.HEAP);
    }

    private static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }
}
