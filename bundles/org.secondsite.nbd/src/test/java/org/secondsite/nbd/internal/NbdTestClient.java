package org.secondsite.nbd.internal;

import org.secondsite.nbd.NbdProtocol;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** A small, deliberately permissive NBD client for protocol tests: it sends whatever it is told to. */
/** A raw NBD client for tests (also used by the nbd capture plugin's tests, through this module's test jar). */
public final class NbdTestClient implements Closeable {
    public static final int OPT_REPLY_HEADER = 20;

    public final Socket socket;
    public final DataInputStream in;
    public final DataOutputStream out;
    public long exportSize;
    public int transmissionFlags;

    public NbdTestClient(InetSocketAddress address) throws IOException {
        socket = new Socket();
        socket.connect(address, 5000);
        socket.setSoTimeout(10_000);
        socket.setTcpNoDelay(true);
        in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
        out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
    }

    /** Connects, negotiates fixed newstyle with NO_ZEROES and enters transmission with NBD_OPT_GO. */
    public static NbdTestClient open(InetSocketAddress address, String export) throws IOException {
        NbdTestClient c = new NbdTestClient(address);
        try {
            c.greet(NbdProtocol.CLIENT_FLAG_FIXED_NEWSTYLE | NbdProtocol.CLIENT_FLAG_NO_ZEROES);
            c.go(export);
            return c;
        } catch (IOException | RuntimeException | AssertionError e) {
            c.close();
            throw e;
        }
    }

    /** Reads the server greeting, checks it, sends {@code clientFlags}. */
    public void greet(int clientFlags) throws IOException {
        assertEquals(NbdProtocol.NBDMAGIC, in.readLong(), "NBDMAGIC");
        assertEquals(NbdProtocol.IHAVEOPT, in.readLong(), "IHAVEOPT");
        assertEquals(NbdProtocol.FLAG_FIXED_NEWSTYLE | NbdProtocol.FLAG_NO_ZEROES, in.readUnsignedShort(), "handshake flags");
        out.writeInt(clientFlags);
        out.flush();
    }

    public void option(int option, byte[] data) throws IOException {
        out.writeLong(NbdProtocol.IHAVEOPT);
        out.writeInt(option);
        out.writeInt(data.length);
        out.write(data);
        out.flush();
    }

    public static byte[] infoData(String export, int... infoTypes) {
        byte[] name = export.getBytes(StandardCharsets.UTF_8);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 + name.length + 2 + 2 * infoTypes.length);
        b.putInt(name.length).put(name).putShort((short) infoTypes.length);
        for (int t : infoTypes) {
            b.putShort((short) t);
        }
        return b.array();
    }

    /** One option reply: type and data. */
    public record OptionReply(int option, int type, byte[] data) {
        public String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    public OptionReply readOptionReply() throws IOException {
        assertEquals(NbdProtocol.OPTION_REPLY_MAGIC, in.readLong(), "option reply magic");
        int option = in.readInt();
        int type = in.readInt();
        int len = in.readInt();
        byte[] data = new byte[len];
        in.readFully(data);
        return new OptionReply(option, type, data);
    }

    public void go(String export) throws IOException {
        option(NbdProtocol.OPT_GO, infoData(export, NbdProtocol.INFO_BLOCK_SIZE));
        while (true) {
            OptionReply r = readOptionReply();
            if (r.type() == NbdProtocol.REP_ACK) {
                return;
            }
            if (r.type() != NbdProtocol.REP_INFO) {
                throw new IOException("NBD_OPT_GO failed: reply type 0x" + Integer.toHexString(r.type()) + ": " + r.text());
            }
            java.nio.ByteBuffer d = java.nio.ByteBuffer.wrap(r.data());
            if (d.getShort() == NbdProtocol.INFO_EXPORT) {
                exportSize = d.getLong();
                transmissionFlags = d.getShort() & 0xffff;
            }
        }
    }

    public void request(int flags, int type, long handle, long offset, long length) throws IOException {
        out.writeInt(NbdProtocol.REQUEST_MAGIC);
        out.writeShort(flags);
        out.writeShort(type);
        out.writeLong(handle);
        out.writeLong(offset);
        out.writeInt((int) length);
    }

    public void write(long handle, long offset, byte[] data, int flags) throws IOException {
        request(flags, NbdProtocol.CMD_WRITE, handle, offset, data.length);
        out.write(data);
    }

    /** A simple reply: error and handle. */
    public record Reply(int error, long handle) {
    }

    public Reply readReply() throws IOException {
        out.flush();
        assertEquals(NbdProtocol.SIMPLE_REPLY_MAGIC, in.readInt(), "simple reply magic");
        return new Reply(in.readInt(), in.readLong());
    }

    /** Sends WRITE and waits for its reply; returns the error value. */
    public int writeSync(long offset, byte[] data) throws IOException {
        write(77, offset, data, 0);
        Reply r = readReply();
        assertEquals(77, r.handle());
        return r.error();
    }

    public byte[] readSync(long offset, int length) throws IOException {
        request(0, NbdProtocol.CMD_READ, 99, offset, length);
        Reply r = readReply();
        assertEquals(0, r.error(), "READ error");
        assertEquals(99, r.handle());
        byte[] data = new byte[length];
        in.readFully(data);
        return data;
    }

    public void disconnect() throws IOException {
        request(0, NbdProtocol.CMD_DISC, 0, 0, 0);
        out.flush();
    }

    /** Whether the server closed the connection (end of stream) within the socket timeout. */
    public boolean closedByServer() throws IOException {
        out.flush();
        try {
            while (true) {
                if (in.read() < 0) {
                    return true;
                }
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (EOFException | java.net.SocketException e) {
            return true;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
