package org.secondsite.transport.tls.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.secondsite.api.transport.ConnectionHandler;
import org.secondsite.api.transport.FrameConnection;
import org.secondsite.api.transport.Transport;
import org.secondsite.api.transport.TransportSecurity;
import org.secondsite.api.transport.TransportServer;

/** The OSGi shell of {@link TlsTransport}: registers it as {@code secondsite.transport=tls}. */
@Component(name = "org.secondsite.transport.tls", service = Transport.class,
        property = Transport.PROPERTY + "=" + TlsTransport.NAME,
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = TlsTransportConfig.class)
public final class TlsTransportComponent implements Transport {

    private final TlsTransport delegate;

    @Activate
    public TlsTransportComponent(TlsTransportConfig config) {
        this.delegate = new TlsTransport(new TlsOptions(config.maxFrameSize(), config.allowTls12(),
                Duration.ofMillis(config.handshakeTimeoutMillis()), config.bufferSize(), config.socketSendBuffer(),
                config.socketReceiveBuffer()));
    }

    @Override
    public String name() {
        return delegate.name();
    }

    @Override
    public TransportServer listen(InetSocketAddress bind, TransportSecurity security, ConnectionHandler handler)
            throws IOException {
        return delegate.listen(bind, security, handler);
    }

    @Override
    public FrameConnection connect(InetSocketAddress remote, TransportSecurity security, Duration timeout)
            throws IOException {
        return delegate.connect(remote, security, timeout);
    }
}
