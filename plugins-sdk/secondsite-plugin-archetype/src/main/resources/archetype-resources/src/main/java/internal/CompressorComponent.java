package ${package}.internal;

import java.nio.ByteBuffer;

import org.osgi.service.component.annotations.Component;
import org.secondsite.api.compress.CompressionException;
import org.secondsite.api.compress.Compressor;

/**
 * The OSGi shell: registers {@link DeflateCodec} as a {@link Compressor} service with the identity
 * property {@code secondsite.compressor=${compressorName}}. The appliance collects compressors
 * dynamically, so this bundle can be installed, updated and removed while it runs.
 */
@Component(name = "${package}", service = Compressor.class,
        property = Compressor.PROPERTY + "=" + DeflateCodec.NAME)
public final class CompressorComponent implements Compressor {

    private final DeflateCodec codec = new DeflateCodec();

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
