package org.secondsite.nbd.internal;

import static org.secondsite.nbd.NbdProtocol.*;

import org.secondsite.nbd.NbdProtocol;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes fixed-newstyle handshake options. Pure: no I/O. The option header is checked before its
 * data is read ({@link #checkHeader}); the data, at most {@value NbdProtocol#MAX_OPTION_LENGTH} bytes,
 * is then turned into an {@link OptionRequest}. Malformed data yields a refusal with
 * {@code NBD_REP_ERR_INVALID}, never an exception.
 */
final class OptionDecoder {
    private OptionDecoder() {
    }

    /**
     * Reads the 16-byte option header from {@code src}: magic, option, length. Returns the option
     * code and stores the data length in {@code length[0]}.
     *
     * @throws NbdProtocolException if the magic is wrong or the data is longer than allowed
     */
    static int checkHeader(ByteBuffer src, int[] length) throws NbdProtocolException {
        long magic = src.getLong();
        int option = src.getInt();
        long len = src.getInt() & 0xffffffffL;
        if (magic != IHAVEOPT) {
            throw new NbdProtocolException(String.format("bad option magic 0x%016x, expected IHAVEOPT 0x%016x",
                    magic, IHAVEOPT));
        }
        if (len > MAX_OPTION_LENGTH) {
            throw new NbdProtocolException(optionName(option) + " carries " + len + " bytes of data, more than the "
                    + MAX_OPTION_LENGTH + " this server accepts");
        }
        length[0] = (int) len;
        return option;
    }

    /** Decodes the data of {@code option}: all of {@code data}'s remaining bytes. */
    static OptionRequest decode(int option, ByteBuffer data) {
        int len = data.remaining();
        switch (option) {
            case OPT_EXPORT_NAME: {
                String name = string(data, len);
                if (name == null) {
                    return OptionRequest.refuse(option, REP_ERR_INVALID,
                            "export name is not a valid NBD string (UTF-8, no NUL, at most 4096 bytes)");
                }
                return new OptionRequest(option, OptionRequest.Action.EXPORT_NAME, name, List.of(), 0, null);
            }
            case OPT_ABORT:
                return OptionRequest.of(option, OptionRequest.Action.ABORT);
            case OPT_LIST:
                return len == 0 ? OptionRequest.of(option, OptionRequest.Action.LIST)
                        : noDataExpected(option, len);
            case OPT_STARTTLS:
                return len == 0
                        ? OptionRequest.refuse(option, REP_ERR_POLICY,
                                "TLS is not offered by this server; serve NBD on a trusted network only")
                        : noDataExpected(option, len);
            case OPT_INFO:
            case OPT_GO:
                return infoOrGo(option, data);
            case OPT_STRUCTURED_REPLY:
                return len == 0
                        ? OptionRequest.refuse(option, REP_ERR_UNSUP, "structured replies are not supported; "
                                + "this server sends simple replies only")
                        : noDataExpected(option, len);
            default:
                return OptionRequest.refuse(option, REP_ERR_UNSUP, optionName(option) + " is not supported by this server");
        }
    }

    private static OptionRequest noDataExpected(int option, int len) {
        return OptionRequest.refuse(option, REP_ERR_INVALID, optionName(option) + " carries no data, got " + len + " bytes");
    }

    /** Data: 32-bit name length, name, 16-bit count of info requests, that many 16-bit info types. */
    private static OptionRequest infoOrGo(int option, ByteBuffer data) {
        String what = optionName(option);
        if (data.remaining() < 6) {
            return OptionRequest.refuse(option, REP_ERR_INVALID,
                    what + " data is " + data.remaining() + " bytes, at least 6 expected");
        }
        long nameLength = data.getInt() & 0xffffffffL;
        if (nameLength > data.remaining() - 2) {
            return OptionRequest.refuse(option, REP_ERR_INVALID, what + " export name length " + nameLength
                    + " does not fit in the " + (data.remaining() + 4) + " bytes of option data");
        }
        String name = string(data, (int) nameLength);
        if (name == null) {
            return OptionRequest.refuse(option, REP_ERR_INVALID,
                    what + " export name is not a valid NBD string (UTF-8, no NUL, at most 4096 bytes)");
        }
        int count = data.getShort() & 0xffff;
        if (data.remaining() != 2 * count) {
            return OptionRequest.refuse(option, REP_ERR_INVALID, what + " announces " + count
                    + " information requests (" + 2 * count + " bytes) but " + data.remaining() + " bytes follow");
        }
        List<Integer> types = new ArrayList<>(Math.min(count, 8));
        for (int i = 0; i < count; i++) {
            int type = data.getShort() & 0xffff;
            if (!types.contains(type)) {
                types.add(type);
            }
        }
        OptionRequest.Action action = option == OPT_GO ? OptionRequest.Action.GO : OptionRequest.Action.INFO;
        return new OptionRequest(option, action, name, List.copyOf(types), 0, null);
    }

    /** Decodes {@code length} bytes as an NBD string, or returns null if it is not one. */
    private static String string(ByteBuffer data, int length) {
        if (length > MAX_STRING_BYTES) {
            data.position(data.position() + length);
            return null;
        }
        ByteBuffer bytes = data.slice(data.position(), length);
        data.position(data.position() + length);
        try {
            String s = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes).toString();
            return s.indexOf('\0') >= 0 ? null : s;
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
