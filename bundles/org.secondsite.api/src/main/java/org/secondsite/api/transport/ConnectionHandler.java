package org.secondsite.api.transport;

/** Serves one accepted connection; runs on a thread dedicated to that connection. */
@FunctionalInterface
public interface ConnectionHandler {
    /** Called once per authenticated connection; the transport closes it when this returns. */
    void serve(FrameConnection connection) throws Exception;
}
