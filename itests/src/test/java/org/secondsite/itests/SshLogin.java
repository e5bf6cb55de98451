package org.secondsite.itests;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumSet;

import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.channel.ClientChannelEvent;
import org.apache.sshd.client.keyverifier.AcceptAllServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;

/** A real SSH client (Apache MINA SSHD, as Karaf ships it) against the appliance's shell. */
final class SshLogin {
    private static final Duration BUDGET = Duration.ofSeconds(30);

    private SshLogin() {
    }

    /**
     * Logs in with a password and runs one command.
     *
     * @return what the command printed
     * @throws org.apache.sshd.common.SshException if the login is refused
     */
    static String run(String user, String password, String command) throws Exception {
        return run(Integer.getInteger("secondsite.itest.sshPort"), user, password, command);
    }

    /** {@link #run(String, String, String)} against the SSH port {@code port} (an appliance run as a process). */
    static String run(int port, String user, String password, String command) throws Exception {
        SshClient client = SshClient.setUpDefaultClient();
        client.setServerKeyVerifier(AcceptAllServerKeyVerifier.INSTANCE);
        client.start();
        try (ClientSession session = client.connect(user, "127.0.0.1", port).verify(BUDGET).getSession()) {
            session.addPasswordIdentity(password);
            session.auth().verify(BUDGET);
            try (ChannelExec exec = session.createExecChannel(command)) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                exec.setOut(out);
                exec.setErr(out);
                exec.open().verify(BUDGET);
                exec.waitFor(EnumSet.of(ClientChannelEvent.CLOSED), BUDGET);
                return out.toString(StandardCharsets.UTF_8);
            }
        } finally {
            client.stop();
        }
    }
}
