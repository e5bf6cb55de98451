package org.secondsite.capture.nbd.internal;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.LongAdder;

import org.secondsite.api.capture.CaptureSession;
import org.secondsite.api.capture.CaptureSpec;
import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.model.ChangeRecord;
import org.secondsite.api.model.DiskId;

/**
 * Stand-alone launcher of the nbd capture driver, for benchmarks and manual use with any NBD client
 * (used by {@code benchmarks/nbd/p2-fio.sh}). It serves {@code <file>} as export {@code <disk id>}
 * with a sink that counts the records it is given and drops them, prints the endpoint, and runs until
 * it is terminated (SIGTERM/SIGINT), then prints the session statistics.
 *
 * <pre>java -cp api.jar:nbd.jar:nbd-tests.jar:slf4j-api.jar org.secondsite.capture.nbd.internal.NbdServerMain \
 *     disk.img 127.0.0.1:10809 disk0</pre>
 */
public final class NbdServerMain {
    private NbdServerMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1 || args.length > 3) {
            System.err.println("usage: NbdServerMain <file> [<listen host:port, default 127.0.0.1:10809>] [<disk id, default disk0>]");
            System.exit(2);
        }
        Path file = Path.of(args[0]);
        String listen = args.length > 1 ? args[1] : "127.0.0.1:10809";
        String disk = args.length > 2 ? args[2] : "disk0";
        LongAdder records = new LongAdder();
        LongAdder bytes = new LongAdder();
        ChangeSink sink = new ChangeSink() {
            @Override
            public void accept(ChangeRecord change) {
                records.increment();
                bytes.add(change.length());
            }

            @Override
            public void flush() {
                // nothing kept
            }
        };
        CaptureSession session = new NbdCaptureDriver().start(
                new CaptureSpec(DiskId.of(disk), file, Map.of("listen", listen, "maxConnections", "64")), sink);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                session.close();
                System.out.println("statistics " + session.statistics() + " sinkRecords=" + records.sum()
                        + " sinkBytes=" + bytes.sum());
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "nbd-main-shutdown"));
        System.out.println("serving " + session.endpoint());
        System.out.flush();
        stopped.await();
    }
}
