package org.secondsite.itests;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * One unpacked appliance assembly run as its own operating-system process
 * ({@code bin/start}, {@code bin/stop}, {@code kill -9}), configured through the files in its
 * {@code etc/}, observed through its REST API.
 */
final class ApplianceInstance {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    final String name;
    final Path home;
    final int httpPort;
    final int sshPort;
    private String adminPassword;

    private ApplianceInstance(String name, Path home) {
        this.name = name;
        this.home = home;
        this.httpPort = freePort();
        this.sshPort = freePort();
    }

    /** Unpacks {@code archive} (a fresh copy) into {@code dir} and gives it free HTTP and SSH ports and a role. */
    static ApplianceInstance unpack(String name, Path archive, Path dir, String role) throws Exception {
        if (Files.exists(dir)) {
            run(List.of("rm", "-rf", dir.toString()), dir.getParent());
        }
        Files.createDirectories(dir);
        run(List.of("tar", "xzf", archive.toString(), "-C", dir.toString(), "--strip-components=1"), dir);
        ApplianceInstance a = new ApplianceInstance(name, dir.toRealPath());
        a.put("org.ops4j.pax.web.cfg", "org.osgi.service.http.port", Integer.toString(a.httpPort));
        a.put("org.apache.karaf.shell.cfg", "sshPort", Integer.toString(a.sshPort));
        a.put("org.secondsite.appliance.cfg", "role", role);
        a.provisionAdmin();
        return a;
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException("no free port", e);
        }
    }

    Path etc(String file) {
        return home.resolve("etc").resolve(file);
    }

    /** Sets {@code key = value} in {@code etc/<file>}, replacing an existing assignment. */
    void put(String file, String key, String value) throws IOException {
        Path p = etc(file);
        List<String> lines = Files.exists(p) ? new ArrayList<>(Files.readAllLines(p)) : new ArrayList<>();
        Pattern assignment = Pattern.compile("^\\s*" + Pattern.quote(key) + "\\s*=.*");
        boolean done = false;
        for (int i = 0; i < lines.size(); i++) {
            if (assignment.matcher(lines.get(i)).matches()) {
                lines.set(i, key + " = " + value);
                done = true;
            }
        }
        if (!done) {
            lines.add(key + " = " + value);
        }
        Files.write(p, lines);
    }

    /** {@code bin/start} with this test's JDK. */
    void start() throws Exception {
        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/start").toString()).directory(home.toFile());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.redirectErrorStream(true).redirectOutput(home.resolve("start.out").toFile());
        Process p = pb.start();
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(name + ": bin/start failed: " + Files.readString(home.resolve("start.out")));
        }
        await(name + " JVM running").atMost(Duration.ofSeconds(30)).until(() -> jvm().isPresent());
    }

    /** The appliance's JVM, found by its {@code -Dkaraf.base} argument. */
    Optional<ProcessHandle> jvm() {
        String marker = "-Dkaraf.base=" + home;
        return ProcessHandle.allProcesses()
                .filter(h -> h.info().commandLine().map(c -> c.contains(marker + " ") || c.endsWith(marker))
                        .orElse(false))
                .findFirst();
    }

    /** {@code kill -9} of the JVM; returns once it is gone. */
    void kill9() {
        ProcessHandle h = jvm().orElseThrow(() -> new IllegalStateException(name + " is not running"));
        h.destroyForcibly(); // SIGKILL on Linux
        await(name + " killed").atMost(Duration.ofSeconds(30)).until(() -> !h.isAlive());
    }

    /** {@code bin/stop}, then SIGKILL if the JVM is still there after a grace period. */
    void stop() {
        Optional<ProcessHandle> h = jvm();
        if (h.isEmpty()) {
            return;
        }
        try {
            ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/stop").toString()).directory(home.toFile());
            pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
            pb.redirectErrorStream(true).redirectOutput(home.resolve("stop.out").toFile());
            pb.start().waitFor(30, TimeUnit.SECONDS);
            h.get().onExit().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            h.get().destroyForcibly();
        }
    }

    /**
     * Writes the 'admin' user (SHA-512 hash, Karaf's {@code {CRYPT}} format, admin group) into
     * {@code etc/users.properties} before the first start, so the appliance's first-boot admin
     * creation is skipped. Work-around: when three appliances boot at once, the first-boot
     * creation sometimes leaves {@code admin} without its group (and a stray {@code _g_} user),
     * after which every REST call answers 403 (reported to the lead).
     */
    private void provisionAdmin() throws IOException {
        byte[] random = new byte[18];
        new java.security.SecureRandom().nextBytes(random);
        adminPassword = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        try {
            byte[] hash = java.security.MessageDigest.getInstance("SHA-512")
                    .digest(adminPassword.getBytes(StandardCharsets.UTF_8));
            String line = "admin = {CRYPT}" + java.util.HexFormat.of().withUpperCase().formatHex(hash)
                    + "{CRYPT},_g_\\:admingroup";
            Files.writeString(etc("users.properties"), "\n" + line + "\n", java.nio.file.StandardOpenOption.APPEND);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    String adminPassword() {
        return adminPassword;
    }

    /**
     * Waits until {@code /api/v1/health} answers 200 with the role applied; fails at once when the
     * appliance reports the role as FAILED (it does not retry by itself), with its message.
     */
    void awaitHealthy(Duration budget) {
        java.util.concurrent.atomic.AtomicReference<String> last = new java.util.concurrent.atomic.AtomicReference<>(
                "no answer");
        try {
            await(name + " healthy").atMost(budget).pollInterval(Duration.ofMillis(500))
                    .ignoreExceptionsInstanceOf(IOException.class).until(() -> {
                        HttpResponse<String> r = get("/api/v1/health");
                        last.set(r.statusCode() + " " + r.body());
                        if (r.statusCode() == 200 && r.body().contains("\"rolePhase\":\"FAILED\"")) {
                            throw new AssertionError(name + ": the appliance reports its role FAILED: " + r.body());
                        }
                        return r.statusCode() == 200 && r.body().contains("\"rolePhase\":\"APPLIED\"");
                    });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError(name + " not healthy within " + budget + "; last answer: " + last.get(), e);
        }
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        String auth = Base64.getEncoder().encodeToString(("admin:" + adminPassword()).getBytes(StandardCharsets.UTF_8));
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
                .timeout(Duration.ofSeconds(10)).header("Authorization", "Basic " + auth).GET().build();
        return HTTP.send(req, HttpResponse.BodyHandlers.ofString());
    }

    /** A request as admin with a JSON body (or none when {@code body} is null). */
    HttpResponse<String> send(String method, String path, String body) throws IOException, InterruptedException {
        String auth = Base64.getEncoder().encodeToString(("admin:" + adminPassword()).getBytes(StandardCharsets.UTF_8));
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
                .timeout(Duration.ofSeconds(10)).header("Authorization", "Basic " + auth);
        if (body == null) {
            req.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            req.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
        }
        return HTTP.send(req.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The base URL of this appliance's HTTP service. */
    String url() {
        return "http://127.0.0.1:" + httpPort;
    }

    /** This appliance's replication stages for {@code disk}, from {@code GET /api/v1/replication}. */
    Optional<StageStatus> replication(String disk) throws IOException, InterruptedException {
        HttpResponse<String> r = get("/api/v1/replication");
        if (r.statusCode() != 200) {
            throw new IOException(name + ": GET /api/v1/replication answered " + r.statusCode() + ": " + r.body());
        }
        return StageStatus.parseList(r.body()).stream().filter(s -> s.disk().equals(disk)).findFirst();
    }

    /** The last {@code lines} lines of {@code data/log/karaf.log}. */
    String logTail(int lines) {
        Path log = home.resolve("data/log/karaf.log");
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private static void run(List<String> cmd, Path dir) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
        }
    }

    @Override
    public String toString() {
        return name + " (" + home + ", http " + httpPort + ")";
    }
}
