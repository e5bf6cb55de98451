package org.secondsite.itests;

import static org.ops4j.pax.exam.CoreOptions.maven;
import static org.ops4j.pax.exam.CoreOptions.mavenBundle;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.CoreOptions.vmOption;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.configureConsole;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.karafDistributionConfiguration;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.logLevel;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.PrivilegedExceptionAction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import javax.inject.Inject;
import javax.security.auth.Subject;

import org.apache.karaf.features.Feature;
import org.apache.karaf.features.FeaturesService;
import org.apache.karaf.jaas.boot.principal.RolePrincipal;
import org.apache.karaf.jaas.boot.principal.UserPrincipal;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.api.console.SessionFactory;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.karaf.options.LogLevelOption.LogLevel;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.secondsite.api.appliance.Appliance;
import org.secondsite.api.appliance.Role;

/**
 * Boots the real appliance assembly (the reactor's tar.gz) in the role a subclass names,
 * on random ports, and offers what role tests need: shell commands run as a given user,
 * HTTP calls to the REST API, the first-boot admin password, bundle and feature checks.
 * Waits use Awaitility with explicit budgets.
 */
public abstract class SecondSiteTestSupport {
    /** Budget for the appliance to reconcile its role after boot or a role change. */
    protected static final Duration ROLE_BUDGET = Duration.ofMinutes(3);

    @Inject
    protected BundleContext bundleContext;

    /*
     * Services are looked up on every use, never injected once: Karaf may re-register a service
     * during boot (the features service is re-created when its configuration arrives), and a
     * component bound to it statically is then re-created too. An injected reference would keep
     * the dead instance, whose role state never moves again.
     */

    protected FeaturesService featuresService() {
        return service(FeaturesService.class);
    }

    protected SessionFactory sessionFactory() {
        return service(SessionFactory.class);
    }

    protected Appliance appliance() {
        return service(Appliance.class);
    }

    /**
     * Waits until the appliance reports its role applied. On timeout the failure names the last
     * role state and the appliance's most recent log errors, so a CI log alone tells why.
     */
    protected void awaitRoleApplied(String what) {
        try {
            org.awaitility.Awaitility.await(what).atMost(ROLE_BUDGET)
                    .until(() -> appliance().roleState().phase() == org.secondsite.api.appliance.RoleState.Phase.APPLIED);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError(what + ": not applied within " + ROLE_BUDGET + "; last state "
                    + appliance().roleState() + "; recent log errors: " + recentLogErrors(), e);
        }
    }

    /**
     * What the JAX-RS whiteboard says it failed to serve (applications, resources, extensions, each
     * with its failure reason code), read reflectively from its runtime DTO; one line, for failure
     * messages.
     */
    protected String jaxrsFailures() {
        try {
            org.osgi.framework.ServiceReference<?> ref = bundleContext.getServiceReference(
                    "org.osgi.service.jaxrs.runtime.JaxrsServiceRuntime");
            if (ref == null) {
                return "no JaxrsServiceRuntime";
            }
            Object runtime = bundleContext.getService(ref);
            Object dto = runtime.getClass().getMethod("getRuntimeDTO").invoke(runtime);
            StringBuilder out = new StringBuilder();
            for (String field : new String[] {"failedApplicationDTOs", "failedResourceDTOs", "failedExtensionDTOs"}) {
                Object[] failed = (Object[]) dto.getClass().getField(field).get(dto);
                for (Object f : failed == null ? new Object[0] : failed) {
                    out.append(field).append(": ").append(f.getClass().getField("name").get(f)).append(" reason ")
                            .append(f.getClass().getField("failureReason").get(f)).append("; ");
                }
            }
            return out.length() == 0 ? "none" : out.toString();
        } catch (ReflectiveOperationException | RuntimeException e) {
            return "(cannot read the JAX-RS runtime: " + e + ")";
        }
    }

    /** The last few ERROR lines of the appliance's own log, one line. */
    protected static String recentLogErrors() {
        Path log = Paths.get(System.getProperty("karaf.log", System.getProperty("karaf.data") + "/log"), "karaf.log");
        try (java.util.stream.Stream<String> lines = Files.lines(log, StandardCharsets.UTF_8)) {
            List<String> errors = lines.filter(l -> l.contains("| ERROR |")).collect(java.util.stream.Collectors.toList());
            return errors.isEmpty() ? "none" : String.join(" // ", errors.subList(Math.max(0, errors.size() - 5), errors.size()));
        } catch (IOException | java.io.UncheckedIOException e) {
            return "(cannot read " + log + ": " + e.getMessage() + ")";
        }
    }

    /** The service of that type registered now, waiting for one to be there. */
    protected <T> T service(Class<T> type) {
        return org.awaitility.Awaitility.await("service " + type.getName()).atMost(ROLE_BUDGET)
                .until(() -> {
                    org.osgi.framework.ServiceReference<T> ref = bundleContext.getServiceReference(type);
                    return ref == null ? null : bundleContext.getService(ref);
                }, java.util.Objects::nonNull);
    }

    /** The role the appliance boots with. */
    protected abstract Role bootRole();

    @Configuration
    public Option[] config() {
        String archive = System.getProperty("appliance.archive");
        String karafVersion = System.getProperty("karaf.version");
        String localRepo = System.getProperty("maven.repo.local",
                System.getProperty("user.home") + "/.m2/repository");
        String httpPort = Integer.toString(freePort());
        String sshPort = Integer.toString(freePort());
        String psPort = Integer.toString(freePort());
        String mtPort = Integer.toString(freePort());
        List<Option> options = new ArrayList<>(List.of(
                karafDistributionConfiguration()
                        .frameworkUrl(new File(archive).toURI().toString())
                        .name("SecondSite")
                        .unpackDirectory(new File("target/exam"))
                        .useDeployFolder(false),
                configureConsole().ignoreLocalConsole(),
                logLevel(LogLevel.INFO),
                editConfigurationFilePut("etc/org.ops4j.pax.web.cfg", "org.osgi.service.http.port", httpPort),
                editConfigurationFilePut("etc/org.apache.karaf.shell.cfg", "sshPort", sshPort),
                editConfigurationFilePut("etc/org.secondsite.appliance.cfg", "role", bootRole().id()),
                // Replication listeners on free loopback ports, the stages pointing at each other.
                editConfigurationFilePut("etc/org.secondsite.processserver.cfg", "listen", "127.0.0.1:" + psPort),
                editConfigurationFilePut("etc/org.secondsite.processserver.cfg", "masterTarget", "127.0.0.1:" + mtPort),
                editConfigurationFilePut("etc/org.secondsite.mastertarget.cfg", "listen", "127.0.0.1:" + mtPort),
                editConfigurationFilePut("etc/org.secondsite.agent.cfg", "processServer", "127.0.0.1:" + psPort),
                // The probe and Pax Exam's own bundles come from the build's local repository.
                editConfigurationFilePut("etc/org.ops4j.pax.url.mvn.cfg",
                        "org.ops4j.pax.url.mvn.localRepository", localRepo),
                editConfigurationFilePut("etc/org.ops4j.pax.url.mvn.cfg",
                        "org.ops4j.pax.url.mvn.defaultRepositories",
                        "file:${karaf.home}/${karaf.default.repository}@id=system.repository@snapshots,"
                                + "file:" + localRepo + "@id=local@snapshots"),
                systemProperty("secondsite.itest.httpPort").value(httpPort),
                systemProperty("secondsite.itest.sshPort").value(sshPort),
                mavenBundle(maven("org.hamcrest", "hamcrest", "2.2")),
                mavenBundle(maven("org.awaitility", "awaitility", System.getProperty("awaitility.version"))),
                vmOption("-Djdk.util.zip.disableZip64ExtraFieldValidation=true")));
        if (Boolean.getBoolean("it.keepRuntime")) { // -Dit.keepRuntime=true keeps target/exam/<id> with its logs
            options.add(org.ops4j.pax.exam.karaf.options.KarafDistributionOption.keepRuntimeFolder());
        }
        // The JDK module flags bin/karaf passes (Pax Exam does not).
        for (String flag : new String[] {
            "--add-reads=java.xml=java.logging",
            "--add-exports=java.base/org.apache.karaf.specs.locator=java.xml,ALL-UNNAMED",
            "--patch-module", "java.base=lib/endorsed/org.apache.karaf.specs.locator-" + karafVersion + ".jar",
            "--patch-module", "java.xml=lib/endorsed/org.apache.karaf.specs.java.xml-" + karafVersion + ".jar",
            "--add-opens", "java.base/java.security=ALL-UNNAMED",
            "--add-opens", "java.base/java.net=ALL-UNNAMED",
            "--add-opens", "java.base/java.lang=ALL-UNNAMED",
            "--add-opens", "java.base/java.util=ALL-UNNAMED",
            "--add-opens", "java.naming/javax.naming.spi=ALL-UNNAMED",
            "--add-opens", "java.rmi/sun.rmi.transport.tcp=ALL-UNNAMED",
            "--add-exports=java.base/sun.net.www.protocol.file=ALL-UNNAMED",
            "--add-exports=java.base/sun.net.www.protocol.http=ALL-UNNAMED",
            "--add-exports=java.base/sun.net.www.protocol.https=ALL-UNNAMED",
            "--add-exports=java.base/sun.net.www.protocol.jar=ALL-UNNAMED",
            "--add-exports=java.base/sun.net.www.content.text=ALL-UNNAMED",
            "--add-exports=jdk.xml.dom/org.w3c.dom.html=ALL-UNNAMED",
            "--add-exports=jdk.naming.rmi/com.sun.jndi.url.rmi=ALL-UNNAMED"}) {
            options.add(vmOption(flag));
        }
        return options.toArray(new Option[0]);
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException("no free port", e);
        }
    }

    /** Runs a shell command as {@code user} with {@code roles}, returning what it printed (out and err). */
    protected String executeCommandAs(String command, String user, String... roles) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        Session session = sessionFactory().create(System.in, out, out);
        Subject subject = new Subject();
        subject.getPrincipals().add(new UserPrincipal(user));
        for (String r : roles) {
            subject.getPrincipals().add(new RolePrincipal(r));
        }
        try {
            Subject.doAs(subject, (PrivilegedExceptionAction<Object>) () -> session.execute(command));
        } catch (java.security.PrivilegedActionException e) {
            out.println("Error: " + e.getException().getMessage());
        } catch (RuntimeException e) {
            // e.g. the command ACL's SecurityException("Insufficient credentials."), as a user would see it
            out.println("Error: " + e.getMessage());
        } finally {
            session.close();
        }
        out.flush();
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** Runs a shell command as the admin. */
    protected String executeCommand(String command) throws Exception {
        return executeCommandAs(command, "admin", "admin", "operator", "viewer", "ssh");
    }

    /** The password the appliance generated for 'admin' at first boot (written once the JAAS realm is up). */
    protected String adminPassword() throws IOException {
        Path file = Paths.get(System.getProperty("karaf.data"), "secondsite", "initial-admin-password");
        org.awaitility.Awaitility.await("first-boot admin password file").atMost(ROLE_BUDGET)
                .until(() -> Files.isRegularFile(file) && Files.size(file) > 0);
        return Files.readString(file, StandardCharsets.US_ASCII).trim();
    }

    protected Path karafEtc() {
        return Paths.get(System.getProperty("karaf.etc"));
    }

    /** GET on the appliance's own HTTP port; {@code user == null} sends no credentials. */
    protected HttpResponse<String> get(String path, String user, String password) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(
                "http://127.0.0.1:" + System.getProperty("secondsite.itest.httpPort") + path))
                .timeout(Duration.ofSeconds(30));
        if (user != null) {
            b.header("Authorization", "Basic " + Base64.getEncoder()
                    .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8)));
        }
        return HttpClient.newHttpClient().send(b.GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * Any method on the appliance's own HTTP port with an optional JSON body; {@code user == null}
     * sends no credentials.
     */
    protected HttpResponse<String> request(String method, String path, String user, String password, String json)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(
                "http://127.0.0.1:" + System.getProperty("secondsite.itest.httpPort") + path))
                .timeout(Duration.ofSeconds(30));
        if (user != null) {
            b.header("Authorization", "Basic " + Base64.getEncoder()
                    .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8)));
        }
        if (json != null) {
            b.header("Content-Type", "application/json");
        }
        b.method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Symbolic names of the ACTIVE bundles. */
    protected Set<String> activeBundles() {
        Set<String> names = new TreeSet<>();
        for (Bundle b : bundleContext.getBundles()) {
            if (b.getState() == Bundle.ACTIVE && b.getSymbolicName() != null) {
                names.add(b.getSymbolicName());
            }
        }
        return names;
    }

    /** Names of the SecondSite role features installed as requirements. */
    protected Set<String> requiredRoleFeatures() throws Exception {
        Set<String> names = new TreeSet<>();
        for (Feature f : featuresService().listRequiredFeatures()) {
            for (Role r : Role.values()) {
                if (r.feature().equals(f.getName())) {
                    names.add(f.getName());
                }
            }
        }
        return names;
    }
}
