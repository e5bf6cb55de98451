package org.secondsite.compress.zstd.internal;

import java.nio.ByteBuffer;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.Designate;
import org.secondsite.api.compress.CompressionException;
import org.secondsite.api.compress.Compressor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The zstd compressor as an OSGi service ({@code secondsite.compressor=zstd}); a shell around
 * {@link ZstdCodec}. A configuration change re-creates it with the new level.
 */
@Component(name = "org.secondsite.compress.zstd", service = Compressor.class,
        property = Compressor.PROPERTY + "=" + ZstdCodec.NAME, configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = ZstdConfig.class)
public final class ZstdCompressorComponent implements Compressor {
    private static final Logger LOG = LoggerFactory.getLogger(ZstdCompressorComponent.class);

    private final ZstdCodec codec;

    @Activate
    public ZstdCompressorComponent(ZstdConfig config) {
        codec = new ZstdCodec(config.level());
        LOG.info("zstd compressor active at level {}", codec.level());
    }

    @Deactivate
    void deactivate() {
        codec.close();
    }

    /** The configured level. */
    public int level() {
        return codec.level();
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
