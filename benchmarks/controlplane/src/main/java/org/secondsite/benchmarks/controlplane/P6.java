package org.secondsite.benchmarks.controlplane;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import javax.ws.rs.core.Response;

import org.secondsite.configserver.internal.ConfigServer;
import org.secondsite.configserver.internal.catalogue.Catalogue;
import org.secondsite.configserver.internal.catalogue.Component;
import org.secondsite.configserver.internal.catalogue.ComponentStore;
import org.secondsite.configserver.internal.catalogue.Migrations;
import org.secondsite.configserver.internal.registration.FailureLimiter;
import org.secondsite.configserver.internal.registration.Passphrase;
import org.secondsite.configserver.internal.rest.AlertsResource;
import org.secondsite.configserver.internal.rest.ComponentsResource;
import org.secondsite.configserver.internal.rest.HeartbeatsResource;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * P6 (docs/PERFORMANCE.md): the configuration server under 1,000 simulated agents heartbeating
 * every 10 s (evenly spread) plus a few list calls per second, for a measured minute after a
 * warm-up. The server is the configuration server's plain classes ({@link ConfigServer} and the
 * same REST resource objects the appliance registers with CXF) on an embedded Derby catalogue with
 * its default durability (a log sync per commit), behind the JDK's HTTP server: JSON in and out with
 * Jackson, as in the appliance, but without CXF's dispatch and the JAAS Basic filter (whose logins
 * the appliance caches for 60 s). Clients are the JDK's HTTP client on loopback, in the same JVM.
 * The alert evaluation runs every 60 s meanwhile, as in the appliance.
 *
 * <p>Prints the latency percentiles of heartbeats and of lists, how many calls failed, and checks
 * that every agent's last heartbeat was stored.
 */
public final class P6 {
    private static final ObjectMapper JSON = new ObjectMapper();

    private P6() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            opts.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        int agents = Integer.parseInt(opts.getOrDefault("agents", "1000"));
        int processServers = Integer.parseInt(opts.getOrDefault("process-servers", "10"));
        int disks = Integer.parseInt(opts.getOrDefault("disks", "2"));
        Duration interval = Duration.ofSeconds(Long.parseLong(opts.getOrDefault("interval", "10")));
        Duration warmup = Duration.ofSeconds(Long.parseLong(opts.getOrDefault("warmup", "30")));
        Duration measured = Duration.ofSeconds(Long.parseLong(opts.getOrDefault("duration", "60")));
        double listsPerSecond = Double.parseDouble(opts.getOrDefault("lists-per-second", "4"));
        int serverThreads = Integer.parseInt(opts.getOrDefault("server-threads", "16"));
        Path work = Paths.get(opts.getOrDefault("workdir", Files.createTempDirectory("p6").toString()));
        Files.createDirectories(work);
        System.setProperty("derby.stream.error.file", work.resolve("derby.log").toString());

        Catalogue catalogue = Catalogue.open(work.resolve("catalogue"), Migrations.bundled());
        ConfigServer server = new ConfigServer(catalogue, Passphrase.loadOrCreate(work.resolve("passphrase")),
                new FailureLimiter(5, Duration.ofMinutes(15), Clock.systemUTC()), () -> {
                    throw new IOException("P6 registers components directly; no authority is needed");
                }, Duration.ofDays(1), serials -> { }, Clock.systemUTC());
        ComponentStore components = new ComponentStore(catalogue);
        Instant now = Instant.now();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < agents + processServers; i++) {
            boolean ps = i >= agents;
            String id = ps ? String.format("ps-%03d", i - agents) : String.format("agent-%04d", i);
            components.register(new Component(id, ps ? "process-server" : "agent", null, "127.0.0.1",
                    Integer.toHexString(i + 1), now.plus(Duration.ofDays(1)), Component.REGISTERED, now, null, null,
                    null));
            ids.add(id);
        }

        HeartbeatsResource heartbeats = HeartbeatsResource.on(server);
        ComponentsResource componentList = ComponentsResource.on(server);
        AlertsResource alerts = AlertsResource.on(server);
        HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 1024);
        ExecutorService serverPool = Executors.newFixedThreadPool(serverThreads);
        http.setExecutor(serverPool);
        http.createContext("/api/v1/heartbeats", ex -> serve(ex, () -> {
            try (InputStream in = ex.getRequestBody()) {
                return heartbeats.post(new String(in.readNBytes(512 * 1024), StandardCharsets.UTF_8));
            }
        }));
        http.createContext("/api/v1/components", ex -> serve(ex, () -> {
            Map<String, String> q = query(ex.getRequestURI());
            return componentList.list(Integer.parseInt(q.getOrDefault("offset", "0")),
                    Integer.parseInt(q.getOrDefault("limit", "50")));
        }));
        http.createContext("/api/v1/alerts", ex -> serve(ex, () -> {
            Map<String, String> q = query(ex.getRequestURI());
            return alerts.list(q.getOrDefault("active", "false"), Integer.parseInt(q.getOrDefault("offset", "0")),
                    Integer.parseInt(q.getOrDefault("limit", "50")));
        }));
        http.start();
        String base = "http://127.0.0.1:" + http.getAddress().getPort() + "/api/v1/";
        System.out.printf("P6: %d agents + %d process servers (%d disks each) heartbeating every %d s, %.1f lists/s, "
                + "warm-up %d s, measured %d s; server: JDK HttpServer, %d threads; catalogue %s%n", agents,
                processServers, disks, interval.toSeconds(), listsPerSecond, warmup.toSeconds(), measured.toSeconds(),
                serverThreads, work.resolve("catalogue"));

        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .executor(Executors.newFixedThreadPool(4)).build();
        ScheduledExecutorService timers = Executors.newScheduledThreadPool(2);
        Recorder beats = new Recorder();
        Recorder lists = new Recorder();
        long startNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
        long measureFrom = startNanos + warmup.toNanos();
        long measureTo = measureFrom + measured.toNanos();
        long periodNanos = interval.toNanos();
        int total = ids.size();
        // Like a component's link, each simulated component reports the desired-state revision it was
        // given (read from the previous answer), so the server sends the document once, not every time.
        java.util.concurrent.ConcurrentHashMap<String, Long> applied = new java.util.concurrent.ConcurrentHashMap<>();
        java.util.regex.Pattern revision = java.util.regex.Pattern.compile("\"desiredRevision\":(\\d+)");
        for (int i = 0; i < total; i++) {
            String id = ids.get(i);
            boolean ps = i >= agents;
            // 1 % of the agents lag beyond the 30 min default RPO, so the alert list is not empty.
            boolean lagging = !ps && i % 100 == 7;
            long offset = periodNanos * i / total;
            timers.scheduleAtFixedRate(() -> {
                String body = heartbeat(id, ps, lagging, disks, applied.getOrDefault(id, 0L));
                long t0 = System.nanoTime();
                client.sendAsync(HttpRequest.newBuilder(URI.create(base + "heartbeats"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString())
                        .whenComplete((r, e) -> {
                            beats.record(t0, System.nanoTime(), measureFrom, measureTo,
                                    e == null && r.statusCode() == 200 && r.body().contains("\"stored\":true"));
                            java.util.regex.Matcher m = e == null ? null : revision.matcher(r.body());
                            if (m != null && m.find()) {
                                applied.put(id, Long.parseLong(m.group(1)));
                            }
                        });
            }, startNanos - System.nanoTime() + offset, periodNanos, TimeUnit.NANOSECONDS);
        }
        long listPeriod = (long) (1e9 / listsPerSecond);
        AtomicLong listNo = new AtomicLong();
        timers.scheduleAtFixedRate(() -> {
            long n = listNo.getAndIncrement();
            String path = n % 2 == 0
                    ? "components?offset=" + ThreadLocalRandom.current().nextInt(Math.max(1, total - 50)) + "&limit=50"
                    : "alerts?active=true&limit=50";
            long t0 = System.nanoTime();
            client.sendAsync(HttpRequest.newBuilder(URI.create(base + path)).GET().build(),
                    HttpResponse.BodyHandlers.ofString())
                    .whenComplete((r, e) -> lists.record(t0, System.nanoTime(), measureFrom, measureTo,
                            e == null && r.statusCode() == 200 && r.body().contains("\"items\":[")));
        }, startNanos - System.nanoTime(), listPeriod, TimeUnit.NANOSECONDS);
        ConcurrentLinkedQueue<String> evaluations = new ConcurrentLinkedQueue<>();
        timers.scheduleWithFixedDelay(() -> {
            long t0 = System.nanoTime();
            try {
                server.evaluateAlerts();
                evaluations.add(String.format("at %+.0f s of the window: %d ms", (t0 - measureFrom) / 1e9,
                        (System.nanoTime() - t0) / 1_000_000));
            } catch (Exception e) {
                e.printStackTrace();
            }
        }, warmup.toSeconds() / 2, 60, TimeUnit.SECONDS);

        // CPU this JVM got and GC pauses during the measured window (the machine is shared).
        com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean)
                java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long[] cpuAndGc = new long[4];
        timers.schedule(() -> {
            cpuAndGc[0] = os.getProcessCpuTime();
            cpuAndGc[1] = gcMillis();
        }, measureFrom - System.nanoTime(), TimeUnit.NANOSECONDS);
        timers.schedule(() -> {
            cpuAndGc[2] = os.getProcessCpuTime();
            cpuAndGc[3] = gcMillis();
        }, measureTo - System.nanoTime(), TimeUnit.NANOSECONDS);
        CountDownLatch done = new CountDownLatch(1);
        timers.schedule(done::countDown, measureTo - System.nanoTime() + TimeUnit.SECONDS.toNanos(2),
                TimeUnit.NANOSECONDS);
        done.await();
        timers.shutdownNow();
        timers.awaitTermination(10, TimeUnit.SECONDS);

        double seconds = measured.toNanos() / 1e9;
        beats.print("heartbeats", seconds);
        lists.print("lists (GET components?limit=50 / alerts?active=true&limit=50 alternately)", seconds);
        beats.timeline("heartbeats", seconds);
        lists.timeline("lists", seconds);
        System.out.printf("this JVM used %.2f of %d cores during the window (server, clients and timers together); "
                + "GC %d ms%n", (cpuAndGc[2] - cpuAndGc[0]) / 1e9 / seconds, Runtime.getRuntime().availableProcessors(),
                cpuAndGc[3] - cpuAndGc[1]);
        System.out.println("alert evaluations: " + evaluations
                + "; active alerts " + server.alerts(true, 0, 1).total());
        try (Connection c = catalogue.connection();
             PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM components WHERE last_heartbeat >= ?")) {
            ps.setTimestamp(1, java.sql.Timestamp.from(Instant.now().minus(interval).minusSeconds(5)),
                    java.util.Calendar.getInstance(java.util.TimeZone.getTimeZone("UTC")));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                System.out.println("components seen within the last interval + 5 s: " + rs.getInt(1) + " of " + total);
            }
        }
        http.stop(0);
        serverPool.shutdownNow();
        catalogue.close();
        System.exit(beats.failures.get() + lists.failures.get() == 0 ? 0 : 1);
    }

    private static long gcMillis() {
        return java.lang.management.ManagementFactory.getGarbageCollectorMXBeans().stream()
                .mapToLong(java.lang.management.GarbageCollectorMXBean::getCollectionTime).sum();
    }

    private static String heartbeat(String id, boolean ps, boolean lagging, int disks, long appliedRevision) {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        StringBuilder b = new StringBuilder(256 + disks * 200);
        b.append("{\"componentId\":\"").append(id).append("\",\"time\":\"").append(Instant.now())
                .append("\",\"appliedRevision\":").append(appliedRevision)
                .append(",\"metrics\":{\"backlogBytes\":").append(r.nextLong(1L << 30))
                .append(",\"cpuLoad\":").append(r.nextInt(400) / 100.0)
                .append(",\"memoryUsedBytes\":").append(r.nextLong(1L << 31, 1L << 32));
        if (ps) {
            b.append(",\"spoolFreePercent\":").append(40 + r.nextInt(600) / 10.0);
        } else {
            b.append(",\"disks\":[");
            for (int d = 0; d < disks; d++) {
                b.append(d == 0 ? "" : ",").append("{\"diskId\":\"").append(id).append(":disk").append(d)
                        .append("\",\"rpoSeconds\":").append(lagging ? 2400 : r.nextInt(60))
                        .append(",\"backlogBytes\":").append(r.nextLong(1L << 28))
                        .append(",\"throughputBytesPerSecond\":").append(r.nextLong(1L << 27))
                        .append(",\"state\":\"replicating\",\"resyncRequired\":false}");
            }
            b.append(']');
        }
        return b.append("}}").toString();
    }

    /** A call served by a resource: its Response as JSON (entities that are strings are problem details already). */
    private interface Call {
        Response run() throws Exception;
    }

    private static void serve(HttpExchange ex, Call call) throws IOException {
        byte[] body;
        int status;
        String type;
        try {
            Response r = call.run();
            status = r.getStatus();
            Object entity = r.getEntity();
            body = entity == null ? new byte[0] : entity instanceof String s ? s.getBytes(StandardCharsets.UTF_8)
                    : JSON.writeValueAsBytes(entity);
            type = r.getMediaType() == null ? "application/json" : r.getMediaType().toString();
        } catch (Exception e) {
            status = 500;
            body = String.valueOf(e).getBytes(StandardCharsets.UTF_8);
            type = "text/plain";
        }
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    private static Map<String, String> query(URI uri) {
        Map<String, String> out = new HashMap<>();
        if (uri.getRawQuery() != null) {
            for (String kv : uri.getRawQuery().split("&")) {
                int eq = kv.indexOf('=');
                if (eq > 0) {
                    out.put(kv.substring(0, eq), kv.substring(eq + 1));
                }
            }
        }
        return out;
    }

    /** Latencies of calls that started inside the measured window, with when they started. */
    private static final class Recorder {
        private final ConcurrentLinkedQueue<long[]> calls = new ConcurrentLinkedQueue<>();
        private final AtomicLong failures = new AtomicLong();

        void record(long start, long end, long from, long to, boolean ok) {
            if (start < from || start >= to) {
                return;
            }
            calls.add(new long[] {start - from, end - start});
            if (!ok) {
                failures.incrementAndGet();
            }
        }

        void print(String what, double seconds) {
            long[] a = calls.stream().mapToLong(c -> c[1]).toArray();
            Arrays.sort(a);
            if (a.length == 0) {
                System.out.println(what + ": no calls");
                return;
            }
            System.out.printf("%s: %d calls (%.1f/s), %d failed; latency p50 %.1f ms, p99 %.1f ms, max %.1f ms%n",
                    what, a.length, a.length / seconds, failures.get(), ms(pct(a, 0.50)), ms(pct(a, 0.99)),
                    ms(a[a.length - 1]));
        }

        /** p50/p99/max of each 10 s of the window, to tell a steady state from stalls. */
        void timeline(String what, double seconds) {
            StringBuilder b = new StringBuilder("  " + what + " per 10 s (p50/p99/max ms):");
            for (int w = 0; w * 10 < seconds; w++) {
                long lo = TimeUnit.SECONDS.toNanos(w * 10L);
                long hi = lo + TimeUnit.SECONDS.toNanos(10);
                long[] a = calls.stream().filter(c -> c[0] >= lo && c[0] < hi).mapToLong(c -> c[1]).sorted().toArray();
                b.append(a.length == 0 ? " -" : String.format(" %.0f/%.0f/%.0f", ms(pct(a, 0.5)), ms(pct(a, 0.99)),
                        ms(a[a.length - 1])));
            }
            System.out.println(b);
        }

        private static long pct(long[] sorted, double p) {
            return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
        }

        private static double ms(long nanos) {
            return nanos / 1e6;
        }
    }
}
