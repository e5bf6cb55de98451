package org.secondsite.nbd.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.secondsite.nbd.NbdProtocol.*;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** The option decoder: header checks, INFO/GO round trips, and fuzzing with random data. */
class OptionDecoderTest {

    @Example
    void headerWithBadMagicOrExcessiveLengthIsFatal() throws Exception {
        int[] len = new int[1];
        ByteBuffer ok = ByteBuffer.allocate(16).putLong(IHAVEOPT).putInt(OPT_GO).putInt(MAX_OPTION_LENGTH).flip();
        assertEquals(OPT_GO, OptionDecoder.checkHeader(ok, len));
        assertEquals(MAX_OPTION_LENGTH, len[0]);
        ByteBuffer tooLong = ByteBuffer.allocate(16).putLong(IHAVEOPT).putInt(OPT_GO).putInt(MAX_OPTION_LENGTH + 1).flip();
        NbdProtocolException e = org.junit.jupiter.api.Assertions.assertThrows(NbdProtocolException.class,
                () -> OptionDecoder.checkHeader(tooLong, len));
        assertTrue(e.getMessage().contains("NBD_OPT_GO"), e.getMessage());
        ByteBuffer badMagic = ByteBuffer.allocate(16).putLong(NBDMAGIC).putInt(OPT_GO).putInt(0).flip();
        e = org.junit.jupiter.api.Assertions.assertThrows(NbdProtocolException.class, () -> OptionDecoder.checkHeader(badMagic, len));
        assertTrue(e.getMessage().contains("IHAVEOPT"), e.getMessage());
    }

    @Example
    void eachOptionIsAnsweredAsDocumented() {
        assertEquals(OptionRequest.Action.ABORT, OptionDecoder.decode(OPT_ABORT, ByteBuffer.allocate(0)).action());
        assertEquals(OptionRequest.Action.LIST, OptionDecoder.decode(OPT_LIST, ByteBuffer.allocate(0)).action());
        assertEquals(REP_ERR_INVALID, OptionDecoder.decode(OPT_LIST, ByteBuffer.allocate(1)).errorReply());
        assertEquals(REP_ERR_POLICY, OptionDecoder.decode(OPT_STARTTLS, ByteBuffer.allocate(0)).errorReply());
        assertEquals(REP_ERR_UNSUP, OptionDecoder.decode(OPT_STRUCTURED_REPLY, ByteBuffer.allocate(0)).errorReply());
        assertEquals(REP_ERR_UNSUP, OptionDecoder.decode(9, ByteBuffer.allocate(20)).errorReply());
        OptionRequest name = OptionDecoder.decode(OPT_EXPORT_NAME, ByteBuffer.wrap("web01:disk0".getBytes(StandardCharsets.UTF_8)));
        assertEquals(OptionRequest.Action.EXPORT_NAME, name.action());
        assertEquals("web01:disk0", name.exportName());
        assertEquals(REP_ERR_INVALID, OptionDecoder.decode(OPT_EXPORT_NAME, ByteBuffer.wrap(new byte[] {'a', 0})).errorReply(),
                "NUL in a string");
        assertEquals(REP_ERR_INVALID, OptionDecoder.decode(OPT_GO, ByteBuffer.wrap(NbdTestClient.infoData("\u00e9"))
                .put(4, (byte) 0xff)).errorReply(), "invalid UTF-8");
        assertEquals(REP_ERR_INVALID, OptionDecoder.decode(OPT_GO, ByteBuffer.wrap(new byte[5000])).errorReply(),
                "info count disagrees with the data");
    }

    @Property(tries = 500)
    void infoAndGoRoundTrip(@ForAll("names") String name, @ForAll @Size(max = 20) List<@IntRange(max = 65535) Integer> types,
            @ForAll boolean go) {
        int option = go ? OPT_GO : OPT_INFO;
        OptionRequest r = OptionDecoder.decode(option, ByteBuffer.wrap(NbdTestClient.infoData(name,
                types.stream().mapToInt(Integer::intValue).toArray())));
        assertEquals(go ? OptionRequest.Action.GO : OptionRequest.Action.INFO, r.action(), String.valueOf(r.message()));
        assertEquals(name, r.exportName());
        assertEquals(new ArrayList<>(new LinkedHashSet<>(types)), r.infoTypes());
    }

    @Provide
    Arbitrary<String> names() {
        return Arbitraries.strings().withCharRange('\u0001', '\u07ff').ofMaxLength(300);
    }

    @Property(tries = 3000)
    void randomOptionsNeverBreakTheDecoder(@ForAll("options") int option, @ForAll @Size(max = 600) byte[] data) {
        OptionRequest r = OptionDecoder.decode(option, ByteBuffer.wrap(data));
        assertNotNull(r.action());
        assertEquals(option, r.option());
        if (r.action() == OptionRequest.Action.REFUSE) {
            assertTrue(r.errorReply() < 0, "error replies have bit 31 set");
            assertNotNull(r.message());
        }
        if (r.action() == OptionRequest.Action.INFO || r.action() == OptionRequest.Action.GO
                || r.action() == OptionRequest.Action.EXPORT_NAME) {
            assertNotNull(r.exportName());
            assertTrue(r.exportName().indexOf('\0') < 0);
        }
    }

    @Property(tries = 3000)
    void randomOptionHeadersAreCheckedBeforeAnyDataIsRead(@ForAll @Size(16) byte[] header) {
        int[] len = {-1};
        try {
            OptionDecoder.checkHeader(ByteBuffer.wrap(header), len);
            assertEquals(IHAVEOPT, ByteBuffer.wrap(header).getLong());
            assertTrue(len[0] >= 0 && len[0] <= MAX_OPTION_LENGTH);
        } catch (NbdProtocolException e) {
            assertNotNull(e.getMessage());
        }
    }

    @Provide
    Arbitrary<Integer> options() {
        return Arbitraries.oneOf(Arbitraries.integers().between(0, 12), Arbitraries.integers());
    }
}
