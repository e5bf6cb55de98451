package org.secondsite.compress.lz4.internal;

import java.nio.ByteBuffer;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.secondsite.api.compress.CompressionException;
import org.secondsite.api.compress.Compressor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The lz4 compressor as an OSGi service ({@code secondsite.compressor=lz4}); a shell around {@link Lz4Codec}. */
@Component(name = "org.secondsite.compress.lz4", service = Compressor.class,
        property = Compressor.PROPERTY + "=" + Lz4Codec.NAME)
public final class Lz4CompressorComponent implements Compressor {
    private static final Logger LOG = LoggerFactory.getLogger(Lz4CompressorComponent.class);

    private final Lz4Codec codec;

    @Activate
    public Lz4CompressorComponent() {
        codec = Lz4Codec.create();
        if (codec.implementation() == Lz4Codec.Implementation.NATIVE) {
            LOG.info("lz4 compressor uses the native (JNI) implementation");
        } else {
            LOG.warn("lz4 compressor falls back to the pure-Java implementation (about 3x slower): {}", codec.fallbackReason());
        }
    }

    /** Which lz4-java implementation runs. */
    public Lz4Codec.Implementation implementation() {
        return codec.implementation();
    }

    @Override
    public String name() {
        return codec.name();
    }

    @Override
    public int maxCompressedLength(int length) {
        return codec.maxCompressedLength(length);
    }

    @Override
    public int compress(ByteBuffer src, ByteBuffer dst) throws CompressionException {
        return codec.compress(src, dst);
    }

    @Override
    public void decompress(ByteBuffer src, ByteBuffer dst, int originalLength) throws CompressionException {
        codec.decompress(src, dst, originalLength);
    }
}
