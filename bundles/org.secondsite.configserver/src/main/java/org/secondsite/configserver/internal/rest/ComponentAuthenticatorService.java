package org.secondsite.configserver.internal.rest;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.secondsite.appliance.rest.ComponentAuthenticator;
import org.secondsite.configserver.internal.ConfigServerService;
import org.secondsite.configserver.internal.registration.ComponentSignatures;

/** Lets the appliance's REST filter accept requests signed by registered components. */
@Component(service = ComponentAuthenticator.class)
public class ComponentAuthenticatorService implements ComponentAuthenticator {
    private final ComponentSignatures signatures;

    @Activate
    public ComponentAuthenticatorService(@Reference ConfigServerService service) {
        this.signatures = service.signatures();
    }

    @Override
    public String authenticate(String method, String rawPathAndQuery, String date, String authorization, byte[] body) {
        return signatures.verify(method, rawPathAndQuery, date, authorization, body);
    }
}
