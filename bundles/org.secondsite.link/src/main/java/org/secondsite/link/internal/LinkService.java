package org.secondsite.link.internal;

/** The running link, for the shell. */
public interface LinkService {
    /** What the link is doing. */
    LinkStatus status();
}
