package org.secondsite.compress.lz4.internal;

import org.secondsite.api.compress.Compressor;
import org.secondsite.testkit.tck.CompressorTck;

/** The lz4 plugin against the compressor TCK: the DS component as the container would create it. */
class Lz4CompressorTckTest extends CompressorTck {
    @Override
    protected Compressor createCompressor() {
        return new Lz4CompressorComponent();
    }
}
