package ${package}.internal;

import org.secondsite.api.compress.Compressor;
import org.secondsite.testkit.tck.CompressorTck;

/** Runs the SecondSite compressor TCK (round trips, buffer kinds, malformed input, threads...) on this plugin. */
class CompressorComponentTckTest extends CompressorTck {
    @Override
    protected Compressor createCompressor() {
        return new CompressorComponent();
    }
}
