package org.secondsite.configserver.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "SecondSite configuration server",
        description = "Catalogue, registration passphrase and certificate issuance of the control plane.")
@interface ConfigServerConfig {

    @AttributeDefinition(name = "Catalogue",
            description = "Folder of the embedded Derby catalogue. Empty: ${karaf.data}/secondsite/catalogue.")
    String catalogue() default "";

    @AttributeDefinition(name = "Authority",
            description = "Folder holding the certificate authority that signs registered components (ca.p12 and "
                    + "password). Empty: ${karaf.data}/secondsite/pki, the appliance's local authority.")
    String authority() default "";

    @AttributeDefinition(name = "Certificate validity", description = "Days a registered component's certificate is valid.")
    int certificateValidityDays() default 730;

    @AttributeDefinition(name = "Failed registrations before refusal",
            description = "Wrong passphrases one client address may send in the window before it is refused (429).")
    int maxFailedRegistrations() default 5;

    @AttributeDefinition(name = "Failure window", description = "Seconds over which failed registrations are counted.")
    int failureWindowSeconds() default 900;
}
