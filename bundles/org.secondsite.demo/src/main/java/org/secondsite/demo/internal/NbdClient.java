package org.secondsite.demo.internal;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A minimal NBD client (fixed-newstyle handshake, NBD_OPT_GO, simple replies): enough to
 * write to an export as a workload would. One request at a time.
 */
final class NbdClient implements Closeable {
    private static final long NBDMAGIC = 0x4e42444d41474943L;
    private static final long IHAVEOPT = 0x49484156454F5054L;
    private static final long REPLY_MAGIC = 0x3e889045565a9L;
    private static final int REQUEST_MAGIC = 0x25609513;
    private static final int SIMPLE_REPLY_MAGIC = 0x67446698;
    private static final int OPT_GO = 7;
    private static final int REP_ACK = 1;
    private static final int REP_INFO = 3;
    private static final int CMD_WRITE = 1;
    private static final int CMD_DISC = 2;
    private static final int CMD_FLUSH = 3;

    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    private final long size;
    private long handle;

    NbdClient(InetSocketAddress address, String export) throws IOException {
        socket = new Socket();
        socket.connect(address, 10_000);
        socket.setSoTimeout(60_000);
        socket.setTcpNoDelay(true);
        in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 1 << 16));
        out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 1 << 20));
        try {
            if (in.readLong() != NBDMAGIC || in.readLong() != IHAVEOPT) {
                throw new IOException("not an NBD server (bad greeting)");
            }
            int serverFlags = in.readUnsignedShort();
            if ((serverFlags & 1) == 0) {
                throw new IOException("NBD server does not speak fixed newstyle");
            }
            out.writeInt(1 | (serverFlags & 2)); // FIXED_NEWSTYLE, and NO_ZEROES if offered
            byte[] name = export.getBytes(StandardCharsets.UTF_8);
            out.writeLong(IHAVEOPT);
            out.writeInt(OPT_GO);
            out.writeInt(4 + name.length + 2);
            out.writeInt(name.length);
            out.write(name);
            out.writeShort(0);
            out.flush();
            long exportSize = -1;
            while (true) {
                if (in.readLong() != REPLY_MAGIC) {
                    throw new IOException("bad option reply magic");
                }
                in.readInt();
                int type = in.readInt();
                int length = in.readInt();
                byte[] data = in.readNBytes(length);
                if (type == REP_ACK) {
                    break;
                }
                if (type == REP_INFO && length >= 12 && data[0] == 0 && data[1] == 0) {
                    exportSize = java.nio.ByteBuffer.wrap(data, 2, 8).getLong();
                } else if (type < 0) {
                    throw new IOException("NBD server refused export '" + export + "': "
                            + new String(data, StandardCharsets.UTF_8));
                }
            }
            if (exportSize < 0) {
                throw new IOException("NBD server sent no export size");
            }
            size = exportSize;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    long size() {
        return size;
    }

    void write(long offset, byte[] data, int length) throws IOException {
        request(CMD_WRITE, offset, length);
        out.write(data, 0, length);
        reply();
    }

    void flush() throws IOException {
        request(CMD_FLUSH, 0, 0);
        reply();
    }

    private void request(int command, long offset, int length) throws IOException {
        out.writeInt(REQUEST_MAGIC);
        out.writeShort(0);
        out.writeShort(command);
        out.writeLong(++handle);
        out.writeLong(offset);
        out.writeInt(length);
    }

    private void reply() throws IOException {
        out.flush();
        if (in.readInt() != SIMPLE_REPLY_MAGIC) {
            throw new IOException("bad reply magic");
        }
        int error = in.readInt();
        long h = in.readLong();
        if (h != handle) {
            throw new IOException("reply for handle " + h + ", expected " + handle);
        }
        if (error != 0) {
            throw new IOException("NBD server answered error " + error);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            request(CMD_DISC, 0, 0);
            out.flush();
        } finally {
            socket.close();
        }
    }
}
