package org.secondsite.compress.zstd.internal;

import org.secondsite.api.compress.Compressor;
import org.secondsite.testkit.tck.CompressorTck;

/**
 * The zstd plugin against the compressor TCK, at the default level 1 (the TCK closes the
 * codec after each test, freeing its native contexts).
 */
class ZstdCompressorTckTest extends CompressorTck {
    @Override
    protected Compressor createCompressor() {
        return new ZstdCodec(1);
    }
}
