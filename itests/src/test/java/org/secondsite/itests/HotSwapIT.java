package org.secondsite.itests;

import static org.awaitility.Awaitility.await;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import javax.inject.Inject;

import org.junit.Assume;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.ConfigurationAdmin;
import org.secondsite.api.appliance.Role;
import org.secondsite.api.appliance.RoleState.Phase;
import org.secondsite.api.compress.Compressor;
import org.secondsite.api.replication.DiskReplicationStatus;
import org.secondsite.api.replication.ReplicationMonitor;
import org.secondsite.api.replication.ReplicationMonitor.Stage;
import org.secondsite.api.transport.Transport;

/**
 * Hot swap while replicating, inside one all-in-one appliance (agent, process server and
 * master target in one JVM): while a disk written through its NBD export replicates, the
 * lz4 compressor bundle (the process server's WAN compressor) and then the TLS transport
 * bundle are updated, and then both are uninstalled and installed again. Replication pauses
 * and resumes; the replica ends equal to the source;
 * the master target applied every sequence exactly once.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class HotSwapIT extends SecondSiteTestSupport {
    private static final String DISK = "hot0";
    private static final long SIZE = 128L << 20;
    private static final Duration BUDGET = Duration.ofMinutes(3);

    @Inject
    private ConfigurationAdmin configAdmin;

    @Override
    protected Role bootRole() {
        return Role.ALL_IN_ONE;
    }

    @Override
    @Configuration
    public Option[] config() {
        List<Option> options = new ArrayList<>(Arrays.asList(super.config()));
        // A small agent buffer and a throttled process-server -> master-target hop keep data
        // in flight long enough to swap bundles under it; quick reconnects keep the test short.
        options.add(editConfigurationFilePut("etc/org.secondsite.agent.cfg", "bufferBytes", Long.toString(48L << 20)));
        options.add(editConfigurationFilePut("etc/org.secondsite.agent.cfg", "windowBytes", Long.toString(24L << 20)));
        options.add(editConfigurationFilePut("etc/org.secondsite.agent.cfg", "backoffMaxSeconds", "1"));
        options.add(editConfigurationFilePut("etc/org.secondsite.processserver.cfg", "backoffMaxSeconds", "1"));
        options.add(editConfigurationFilePut("etc/org.secondsite.processserver.cfg", "bandwidthSchedule", "*=8MB/s"));
        return options.toArray(new Option[0]);
    }

    @Test
    public void updatingCompressorAndTransportBundlesMidTransferLosesNothingAndAppliesNothingTwice()
            throws Exception {
        Assume.assumeTrue("qemu-io is not installed (package qemu-utils): it writes through the NBD export",
                WritePattern.onPath("qemu-io"));
        awaitRoleApplied("role");

        Path dir = Paths.get(System.getProperty("karaf.data"), "hotswap");
        Files.createDirectories(dir);
        Path source = dir.resolve(DISK + ".img");
        try (RandomAccessFile f = new RandomAccessFile(source.toFile(), "rw")) {
            f.setLength(SIZE);
        }
        int nbdPort = freeLoopbackPort();
        org.osgi.service.cm.Configuration disk = configAdmin.createFactoryConfiguration("org.secondsite.agent.disk", "?");
        Dictionary<String, Object> props = new Hashtable<>();
        props.put("diskId", DISK);
        props.put("source", source.toString());
        props.put("driver", "nbd");
        props.put("capture.listen", "127.0.0.1:" + nbdPort);
        disk.update(props);
        await("agent protects " + DISK + " on NBD port " + nbdPort).atMost(BUDGET)
                .until(() -> status(Stage.AGENT).isPresent() && accepts(nbdPort));
        // The workload starts on a replicating disk, not during its initial replication.
        await("initial replication of " + DISK + " done").atMost(BUDGET).until(() -> status(Stage.AGENT)
                .map(DiskReplicationStatus::resync)
                .filter(r -> r.phase() == org.secondsite.api.replication.ResyncProgress.Phase.DONE).isPresent());

        // First pattern: the lz4 compressor (the process server's WAN compressor, decompressed at
        // the master target) is updated while batches flow from the process server to the master target.
        WritePattern first = new WritePattern(SIZE, 7, dir);
        Process qemu = first.qemuIo(nbdUri(nbdPort), dir.resolve("qemu-io-1.log").toFile()).start();
        try {
            swapUnderLoad("org.secondsite.compress.lz4",
                    () -> serviceId(Compressor.class, "(" + Compressor.PROPERTY + "=lz4)"));
            finish(qemu, dir.resolve("qemu-io-1.log"));
        } finally {
            qemu.destroyForcibly();
        }
        // Second pattern over the whole disk: the TLS transport (both hops) is updated while
        // qemu-io still writes, so batches are in flight from the agent and to the master target.
        WritePattern pattern = new WritePattern(SIZE, 8, dir);
        long sealedBefore = status(Stage.AGENT).orElseThrow().lastSequence();
        qemu = pattern.qemuIo(nbdUri(nbdPort), dir.resolve("qemu-io-2.log").toFile()).start();
        try {
            await("agent seals batches of the second pattern").atMost(BUDGET)
                    .until(() -> status(Stage.AGENT).orElseThrow().lastSequence() >= sealedBefore + 4);
            assertTrue("qemu-io already finished: the transport update would not be mid-write", qemu.isAlive());
            swapUnderLoad("org.secondsite.transport.tls",
                    () -> serviceId(Transport.class, "(" + Transport.PROPERTY + "=tls)"));
            finish(qemu, dir.resolve("qemu-io-2.log"));
        } finally {
            qemu.destroyForcibly();
        }
        // Third pattern: uninstall and install again (not update) the compressor, then the transport,
        // each while batches are in flight; replication waits for the plugin and resumes.
        pattern = new WritePattern(SIZE, 9, dir);
        long sealedBefore3 = status(Stage.AGENT).orElseThrow().lastSequence();
        qemu = pattern.qemuIo(nbdUri(nbdPort), dir.resolve("qemu-io-3.log").toFile()).start();
        try {
            await("agent seals batches of the third pattern").atMost(BUDGET)
                    .until(() -> status(Stage.AGENT).orElseThrow().lastSequence() >= sealedBefore3 + 4);
            reinstallUnderLoad("org.secondsite.compress.lz4",
                    () -> serviceId(Compressor.class, "(" + Compressor.PROPERTY + "=lz4)"));
            reinstallUnderLoad("org.secondsite.transport.tls",
                    () -> serviceId(Transport.class, "(" + Transport.PROPERTY + "=tls)"));
            finish(qemu, dir.resolve("qemu-io-3.log"));
        } finally {
            qemu.destroyForcibly();
        }
        String expected = pattern.expectedSha256();
        assertEquals("the source disk does not hold " + pattern, expected, WritePattern.sha256(source));

        await("master target applied and made durable every batch the agent sealed").atMost(BUDGET).until(() -> {
            DiskReplicationStatus a = status(Stage.AGENT).orElseThrow();
            DiskReplicationStatus m = status(Stage.MASTER_TARGET).orElseThrow();
            return a.acknowledgedSequence() == a.lastSequence() && a.backlogBytes() == 0
                    && m.lastSequence() == a.lastSequence() && m.acknowledgedSequence() == a.lastSequence();
        });
        DiskReplicationStatus a = status(Stage.AGENT).orElseThrow();
        DiskReplicationStatus m = status(Stage.MASTER_TARGET).orElseThrow();
        Path replica = Paths.get(System.getProperty("karaf.data"), "secondsite", "storage", "volumes",
                "disk-" + DISK + ".img");
        assertEquals("replica differs from the source", expected, WritePattern.sha256(replica));
        // Every byte the agent put into the stream was applied exactly once: the agent's bytesIn (data of
        // the batches it numbered) equals the master target's bytesOut (data of the batches it applied,
        // each sequence once), whatever reconnects, holds and reloads the swaps caused.
        assertEquals("data bytes numbered by the agent vs applied by the master target: agent " + a
                + " vs master target " + m, a.bytesIn(), m.bytesOut());
        assertEquals(a.lastSequence(), m.lastSequence());
        System.out.println("hot swap: agent " + a + "\nprocess server " + status(Stage.PROCESS_SERVER).orElse(null)
                + "\nmaster target " + m);
    }

    /**
     * Once data is in flight towards the master target, updates the bundle ({@code Bundle.update()};
     * the shell's {@code bundle:update} needs roles beyond those of the test's shell session), waits until its service is back (a new registration) and the master
     * target applies further batches.
     */
    private void swapUnderLoad(String symbolicName, java.util.concurrent.Callable<Long> serviceId)
            throws Exception {
        Bundle bundle = Arrays.stream(bundleContext.getBundles())
                .filter(b -> symbolicName.equals(b.getSymbolicName())).findFirst()
                .orElseThrow(() -> new AssertionError("bundle " + symbolicName + " is not installed"));
        long applied0 = status(Stage.MASTER_TARGET).map(DiskReplicationStatus::lastSequence).orElse(0L);
        await("master target applies batches before " + symbolicName + " is updated").atMost(BUDGET)
                .until(() -> applied() >= applied0 + 2);
        long applied = applied();
        DiskReplicationStatus agentNow = status(Stage.AGENT).orElseThrow();
        long sealed = agentNow.lastSequence();
        assertTrue("nothing in flight when updating " + symbolicName + ": agent sealed " + sealed
                + ", master target applied " + applied, sealed > applied + 1);
        long modified = bundle.getLastModified();
        Long serviceBefore = serviceId.call();
        bundle.update(); // stops the bundle (its service goes away), re-reads it from its location, starts it
        System.out.println("updated " + symbolicName + " at master-target sequence " + applied + "; agent sealed "
                + sealed + ", acknowledged " + agentNow.acknowledgedSequence() + "; its service was " + serviceBefore);
        assertTrue(symbolicName + " was not updated", bundle.getLastModified() > modified);
        await(symbolicName + " active again with a new service").atMost(BUDGET)
                .until(() -> bundle.getState() == Bundle.ACTIVE && serviceId.call() != null
                        && !serviceId.call().equals(serviceBefore));
        await("replication resumes after updating " + symbolicName).atMost(BUDGET)
                .until(() -> applied() > applied + 1);
    }

    /**
     * Once data is in flight towards the master target, uninstalls the bundle (its service goes
     * away), waits until that is seen, installs it again from the same location and starts it;
     * then waits for a new service and for the master target to apply further batches.
     */
    private void reinstallUnderLoad(String symbolicName, java.util.concurrent.Callable<Long> serviceId)
            throws Exception {
        Bundle bundle = Arrays.stream(bundleContext.getBundles())
                .filter(b -> symbolicName.equals(b.getSymbolicName())).findFirst()
                .orElseThrow(() -> new AssertionError("bundle " + symbolicName + " is not installed"));
        long applied0 = applied();
        await("master target applies batches before " + symbolicName + " is uninstalled").atMost(BUDGET)
                .until(() -> applied() >= applied0 + 2);
        long applied = applied();
        long sealed = status(Stage.AGENT).orElseThrow().lastSequence();
        assertTrue("nothing in flight when uninstalling " + symbolicName + ": agent sealed " + sealed
                + ", master target applied " + applied, sealed > applied + 1);
        String location = bundle.getLocation();
        Long serviceBefore = serviceId.call();
        bundle.uninstall();
        await(symbolicName + " service gone").atMost(BUDGET).until(() -> serviceId.call() == null);
        System.out.println("uninstalled " + symbolicName + " at master-target sequence " + applied + "; agent sealed "
                + sealed + "; its service was " + serviceBefore);
        Bundle again = bundleContext.installBundle(location);
        again.start();
        await(symbolicName + " installed again with a new service").atMost(BUDGET)
                .until(() -> again.getState() == Bundle.ACTIVE && serviceId.call() != null
                        && !serviceId.call().equals(serviceBefore));
        await("replication resumes after reinstalling " + symbolicName).atMost(BUDGET)
                .until(() -> applied() > applied + 1);
    }

    private static String nbdUri(int port) {
        return "nbd://127.0.0.1:" + port + "/" + DISK;
    }

    private static void finish(Process qemu, Path log) throws Exception {
        assertTrue("qemu-io did not finish within " + BUDGET, qemu.waitFor(BUDGET.toSeconds(), TimeUnit.SECONDS));
        assertEquals("qemu-io failed: " + Files.readString(log), 0, qemu.exitValue());
    }

    private long applied() {
        return status(Stage.MASTER_TARGET).map(DiskReplicationStatus::lastSequence).orElse(0L);
    }

    /** The {@code service.id} of the service matching {@code filter}, or null if there is none. */
    private <S> Long serviceId(Class<S> type, String filter) throws Exception {
        return bundleContext.getServiceReferences(type, filter).stream()
                .map(r -> (Long) r.getProperty(org.osgi.framework.Constants.SERVICE_ID)).findFirst().orElse(null);
    }

    private Optional<DiskReplicationStatus> status(Stage stage) {
        try {
            for (ServiceReference<ReplicationMonitor> ref : bundleContext.getServiceReferences(ReplicationMonitor.class,
                    null)) {
                ReplicationMonitor monitor = bundleContext.getService(ref);
                try {
                    if (monitor != null && monitor.stage() == stage) {
                        return monitor.disks().stream().filter(d -> d.disk().value().equals(DISK)).findFirst();
                    }
                } finally {
                    bundleContext.ungetService(ref);
                }
            }
        } catch (org.osgi.framework.InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
        return Optional.empty();
    }

    private static int freeLoopbackPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
