-- protection: where each disk is read, desired-state revisions per component, what job steps wait for
-- A component's desired state is computed from machines, disks and policies; its revision grows when that changes.

ALTER TABLE components ADD COLUMN desired_revision BIGINT DEFAULT 0 NOT NULL;
ALTER TABLE components ADD COLUMN desired_digest VARCHAR(64);
ALTER TABLE components ADD COLUMN applied_revision BIGINT DEFAULT 0 NOT NULL;
ALTER TABLE components ADD COLUMN applied_at TIMESTAMP;
ALTER TABLE components ADD COLUMN apply_error VARCHAR(2000);
ALTER TABLE disks ADD COLUMN source VARCHAR(1024) DEFAULT '' NOT NULL;
ALTER TABLE disks ADD COLUMN driver VARCHAR(32) DEFAULT 'nbd' NOT NULL;
ALTER TABLE disks ADD COLUMN options CLOB;
ALTER TABLE disks ADD COLUMN resync_request BIGINT DEFAULT 0 NOT NULL;
ALTER TABLE job_steps ADD COLUMN kind VARCHAR(16) DEFAULT 'apply' NOT NULL;
ALTER TABLE job_steps ADD COLUMN wait_component VARCHAR(64);
ALTER TABLE job_steps ADD COLUMN wait_revision BIGINT;
CREATE INDEX jobs_created ON jobs (created_at);
ALTER TABLE disk_health ADD COLUMN resync_percent INT;
ALTER TABLE recovery_points ADD COLUMN point_id VARCHAR(128);
CREATE INDEX recovery_points_mt ON recovery_points (master_target_id, point_id);
