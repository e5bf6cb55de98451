package org.secondsite.transport.tls.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "SecondSite TLS transport",
        description = "Frames over mutually-authenticated TLS between agent, process server and master target.")
@interface TlsTransportConfig {

    @AttributeDefinition(name = "Maximum frame size",
            description = "Largest frame sent or accepted, in bytes; larger frames are refused on both sides.",
            min = "1")
    int maxFrameSize() default TlsOptions.DEFAULT_MAX_FRAME_SIZE;

    @AttributeDefinition(name = "Allow TLS 1.2",
            description = "Offer TLS 1.2 as a fallback; by default only TLS 1.3 is spoken.")
    boolean allowTls12() default false;

    @AttributeDefinition(name = "Handshake timeout (ms)",
            description = "A peer that does not complete the TLS handshake and preamble in this time is disconnected.",
            min = "1")
    int handshakeTimeoutMillis() default 10_000;

    @AttributeDefinition(name = "Stream buffer size",
            description = "Buffered stream size per direction and connection, in bytes.", min = "1024")
    int bufferSize() default TlsOptions.DEFAULT_BUFFER_SIZE;

    @AttributeDefinition(name = "Socket send buffer",
            description = "SO_SNDBUF in bytes; 0 keeps the operating system's (autotuned) default.", min = "0")
    int socketSendBuffer() default 0;

    @AttributeDefinition(name = "Socket receive buffer",
            description = "SO_RCVBUF in bytes; 0 keeps the operating system's (autotuned) default.", min = "0")
    int socketReceiveBuffer() default 0;
}
