package org.secondsite.compress.none.internal;

import org.secondsite.api.compress.Compressor;
import org.secondsite.testkit.tck.CompressorTck;

/** The none plugin against the compressor TCK. */
class NoneCompressorTckTest extends CompressorTck {
    @Override
    protected Compressor createCompressor() {
        return new NoneCompressor();
    }
}
