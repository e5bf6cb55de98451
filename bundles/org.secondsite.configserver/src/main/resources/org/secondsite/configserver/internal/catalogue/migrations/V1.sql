-- initial catalogue: sites, components, machines, disks, consistency groups, policies, recovery points, jobs, events, audit log
-- Statements end with ';' at the end of a line. Times are UTC TIMESTAMPs. Ids chosen by people or components are
-- VARCHAR(64) (letters, digits, '.', '_', ':', '-'); rows the server creates get generated BIGINT ids.

CREATE TABLE sites (
  id VARCHAR(64) NOT NULL PRIMARY KEY,
  name VARCHAR(200) NOT NULL,
  created_at TIMESTAMP NOT NULL
);

CREATE TABLE components (
  id VARCHAR(64) NOT NULL PRIMARY KEY,
  role VARCHAR(32) NOT NULL CONSTRAINT components_role CHECK (role IN ('agent', 'process-server', 'master-target')),
  site_id VARCHAR(64) CONSTRAINT components_site REFERENCES sites (id),
  address VARCHAR(255),
  certificate_serial VARCHAR(64) NOT NULL,
  certificate_expires TIMESTAMP NOT NULL,
  state VARCHAR(16) NOT NULL CONSTRAINT components_state CHECK (state IN ('registered', 'removed')),
  registered_at TIMESTAMP NOT NULL,
  removed_at TIMESTAMP,
  last_heartbeat TIMESTAMP,
  metrics CLOB
);

CREATE TABLE revoked_certificates (
  serial VARCHAR(64) NOT NULL PRIMARY KEY,
  component_id VARCHAR(64) NOT NULL,
  revoked_at TIMESTAMP NOT NULL
);

CREATE TABLE policies (
  id VARCHAR(64) NOT NULL PRIMARY KEY,
  rpo_threshold_seconds INT NOT NULL,
  checkpoint_interval_seconds INT NOT NULL,
  retention_window_seconds BIGINT NOT NULL,
  retention_space_bytes BIGINT NOT NULL,
  app_consistency_schedule VARCHAR(200) NOT NULL,
  compressor VARCHAR(32) NOT NULL,
  bandwidth_schedule VARCHAR(2000) NOT NULL,
  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL
);

CREATE TABLE consistency_groups (
  id VARCHAR(64) NOT NULL PRIMARY KEY,
  policy_id VARCHAR(64) CONSTRAINT groups_policy REFERENCES policies (id),
  created_at TIMESTAMP NOT NULL
);

CREATE TABLE machines (
  id VARCHAR(64) NOT NULL PRIMARY KEY,
  name VARCHAR(200) NOT NULL,
  kind VARCHAR(32) NOT NULL CONSTRAINT machines_kind CHECK (kind IN ('vmware', 'physical-linux', 'physical-windows')),
  site_id VARCHAR(64) CONSTRAINT machines_site REFERENCES sites (id),
  agent_id VARCHAR(64) CONSTRAINT machines_agent REFERENCES components (id),
  process_server_id VARCHAR(64) CONSTRAINT machines_ps REFERENCES components (id),
  master_target_id VARCHAR(64) CONSTRAINT machines_mt REFERENCES components (id),
  group_id VARCHAR(64) CONSTRAINT machines_group REFERENCES consistency_groups (id),
  policy_id VARCHAR(64) CONSTRAINT machines_policy REFERENCES policies (id),
  state VARCHAR(32) NOT NULL,
  created_at TIMESTAMP NOT NULL
);

CREATE TABLE disks (
  id VARCHAR(64) NOT NULL PRIMARY KEY,
  machine_id VARCHAR(64) NOT NULL CONSTRAINT disks_machine REFERENCES machines (id) ON DELETE CASCADE,
  name VARCHAR(200) NOT NULL,
  size_bytes BIGINT NOT NULL,
  state VARCHAR(32) NOT NULL
);

CREATE TABLE recovery_points (
  id BIGINT NOT NULL GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  disk_id VARCHAR(64) NOT NULL CONSTRAINT points_disk REFERENCES disks (id) ON DELETE CASCADE,
  group_id VARCHAR(64) CONSTRAINT points_group REFERENCES consistency_groups (id),
  master_target_id VARCHAR(64) NOT NULL,
  kind VARCHAR(16) NOT NULL CONSTRAINT points_kind CHECK (kind IN ('crash', 'app')),
  tag VARCHAR(200),
  point_time TIMESTAMP NOT NULL,
  sequence_number BIGINT NOT NULL,
  recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX recovery_points_disk_time ON recovery_points (disk_id, point_time);

CREATE TABLE jobs (
  id BIGINT NOT NULL GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind VARCHAR(32) NOT NULL,
  machine_id VARCHAR(64) CONSTRAINT jobs_machine REFERENCES machines (id),
  state VARCHAR(16) NOT NULL CONSTRAINT jobs_state CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  progress INT NOT NULL DEFAULT 0,
  error VARCHAR(2000),
  created_by VARCHAR(128) NOT NULL,
  created_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL
);
CREATE INDEX jobs_machine_state ON jobs (machine_id, state);

CREATE TABLE job_steps (
  job_id BIGINT NOT NULL CONSTRAINT steps_job REFERENCES jobs (id) ON DELETE CASCADE,
  ordinal INT NOT NULL,
  name VARCHAR(200) NOT NULL,
  state VARCHAR(16) NOT NULL,
  progress INT NOT NULL DEFAULT 0,
  error VARCHAR(2000),
  started_at TIMESTAMP,
  ended_at TIMESTAMP,
  PRIMARY KEY (job_id, ordinal)
);

CREATE TABLE events (
  id BIGINT NOT NULL GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind VARCHAR(64) NOT NULL,
  severity VARCHAR(16) NOT NULL CONSTRAINT events_severity CHECK (severity IN ('info', 'warning', 'critical')),
  source VARCHAR(64),
  subject VARCHAR(255),
  message VARCHAR(2000) NOT NULL,
  raised_at TIMESTAMP NOT NULL,
  cleared_at TIMESTAMP
);

CREATE TABLE audit_log (
  id BIGINT NOT NULL GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  occurred_at TIMESTAMP NOT NULL,
  actor VARCHAR(128) NOT NULL,
  action VARCHAR(64) NOT NULL,
  target VARCHAR(255) NOT NULL,
  outcome VARCHAR(512) NOT NULL
);
