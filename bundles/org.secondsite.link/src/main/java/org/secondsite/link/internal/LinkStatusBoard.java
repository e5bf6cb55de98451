package org.secondsite.link.internal;

import java.util.function.Supplier;

import org.osgi.service.component.annotations.Component;

/**
 * Where the running link publishes its status for the shell. A service of its own, without
 * configuration: a service of the configured link component would carry the link's
 * configuration (the passphrase among it) as service properties.
 */
@Component(service = LinkStatusBoard.class)
public class LinkStatusBoard {
    private volatile Supplier<LinkStatus> source;

    /** The link's status, or null when no link is configured. */
    public LinkStatus status() {
        Supplier<LinkStatus> s = source;
        return s == null ? null : s.get();
    }

    synchronized void publish(Supplier<LinkStatus> status) {
        source = status;
    }

    synchronized void withdraw(Supplier<LinkStatus> status) {
        if (source == status) {
            source = null;
        }
    }
}
