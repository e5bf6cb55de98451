package org.secondsite.configserver.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "SecondSite configuration server",
        description = "Catalogue, registration passphrase, certificate issuance and health alerts of the control plane.")
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

    @AttributeDefinition(name = "Default RPO threshold",
            description = "Minutes of RPO above which a disk without a policy is in alert (a disk whose machine or "
                    + "consistency group has a policy uses the policy's threshold). ASR's default: 30.")
    int defaultRpoThresholdMinutes() default 30;

    @AttributeDefinition(name = "Spool warning",
            description = "A process server whose spool has less free space than this percentage raises a warning.")
    double spoolWarningPercent() default 30;

    @AttributeDefinition(name = "Spool critical",
            description = "A process server whose spool has less free space than this percentage raises a critical "
                    + "alert (at most the warning percentage).")
    double spoolCriticalPercent() default 25;

    @AttributeDefinition(name = "Heartbeat timeout",
            description = "Minutes without a heartbeat after which a registered component is in alert.")
    int heartbeatTimeoutMinutes() default 15;

    @AttributeDefinition(name = "Alert evaluation interval", description = "Seconds between two evaluations of the alerts.")
    int alertEvaluationSeconds() default 60;

    @AttributeDefinition(name = "Event retention",
            description = "Days events and cleared alerts are kept; active alerts are kept until cleared.")
    int eventRetentionDays() default 90;

    @AttributeDefinition(name = "Job step timeout", description = "Minutes a job step waits for a component to apply "
            + "its new configuration before the job fails (1..1440)")
    int jobStepTimeoutMinutes() default 30;

    @AttributeDefinition(name = "Job interval", description = "Seconds between two passes that move running jobs on "
            + "(1..60)")
    int jobIntervalSeconds() default 2;
}
