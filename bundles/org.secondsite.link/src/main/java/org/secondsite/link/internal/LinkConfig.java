package org.secondsite.link.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.AttributeType;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "SecondSite link to the configuration server",
        description = "Registers this agent, process server or master target with its configuration server, sends "
                + "signed heartbeats with its replication figures and applies the configurations it is sent. "
                + "Idle while configServer is empty.")
@interface LinkConfig {

    @AttributeDefinition(name = "Configuration server", required = false,
            description = "Base URL of the configuration server, http:// or https://, e.g. https://cs.example.org:8443. "
                    + "Empty: the link stays idle.")
    String configServer() default "";

    @AttributeDefinition(name = "Component id", required = false,
            description = "This component's id (its certificate's common name): 1-64 letters, digits, '.', '_', ':' "
                    + "or '-'.")
    String componentId() default "";

    @AttributeDefinition(name = "Role", required = false,
            description = "agent, process-server or master-target (required once configServer is set).")
    String role() default "";

    @AttributeDefinition(name = "Site", required = false, description = "The site this component belongs to (optional).")
    String site() default "";

    @AttributeDefinition(name = "Data address", required = false,
            description = "host:port where other components reach this component's data listener (the process "
                    + "server's or master target's 'listen'); agents leave it empty.")
    String address() default "";

    @AttributeDefinition(name = "Registration passphrase", type = AttributeType.PASSWORD, required = false,
            description = "The configuration server's registration passphrase, used for the first registration only; "
                    + "removed from this configuration once the component is registered.")
    String passphrase() default "";

    @AttributeDefinition(name = "Trusted certificate", required = false,
            description = "PEM file with the certificate(s) trusted for https:// to the configuration server. Empty: "
                    + "the JDK's default trust store.")
    String trustedCertificate() default "";

    @AttributeDefinition(name = "Heartbeat interval (seconds)", min = "1", max = "3600",
            description = "Seconds between two heartbeats.")
    int heartbeatSeconds() default 10;

    @AttributeDefinition(name = "State folder", required = false,
            description = "Folder of the link's state, key store and authority. Empty: ${karaf.data}/secondsite/link.")
    String stateDir() default "";
}
