package org.secondsite.pki.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.AttributeType;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "SecondSite component identity",
        description = "The certificate this appliance presents to other components and the authorities it trusts.")
@interface IdentityConfig {

    @AttributeDefinition(name = "Key store",
            description = "PKCS#12 file with this component's private key and certificate chain (issued at registration). "
                    + "Empty: use a local authority created on first start under data/secondsite/pki (all-in-one).")
    String keyStore() default "";

    @AttributeDefinition(name = "Key store password", type = AttributeType.PASSWORD,
            description = "Password of the key store.")
    String keyStorePassword() default "";

    @AttributeDefinition(name = "Trusted authorities",
            description = "PEM file with the certificate(s) of the authorities whose components are accepted. "
                    + "Empty: the authority that issued this component's certificate.")
    String trustedAuthorities() default "";

    @AttributeDefinition(name = "Revoked components",
            description = "Component ids whose connections are refused even though their certificate is valid.")
    String[] revoked() default {};

    @AttributeDefinition(name = "Revoked certificates",
            description = "Serial numbers (hexadecimal) of certificates refused during the TLS handshake. "
                    + "The configuration server writes them when a component is removed.")
    String[] revokedSerials() default {};
}
