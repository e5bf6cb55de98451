-- health: latest heartbeat per component and per disk; alerts are events with acknowledgement; indexes for the read APIs
-- One row per component and per (component, disk), overwritten by each heartbeat: these tables do not grow with time.

CREATE TABLE component_health (
  component_id VARCHAR(64) NOT NULL PRIMARY KEY CONSTRAINT health_component REFERENCES components (id) ON DELETE CASCADE,
  reported_at TIMESTAMP NOT NULL,
  received_at TIMESTAMP NOT NULL,
  backlog_bytes BIGINT NOT NULL,
  spool_free_percent DOUBLE,
  cpu_load DOUBLE,
  memory_used_bytes BIGINT
);

CREATE TABLE disk_health (
  component_id VARCHAR(64) NOT NULL CONSTRAINT disk_health_component REFERENCES components (id) ON DELETE CASCADE,
  disk_id VARCHAR(128) NOT NULL,
  rpo_seconds BIGINT NOT NULL,
  backlog_bytes BIGINT NOT NULL,
  throughput_bytes_per_second BIGINT NOT NULL,
  state VARCHAR(32) NOT NULL,
  resync_required BOOLEAN NOT NULL,
  PRIMARY KEY (component_id, disk_id)
);

ALTER TABLE events ADD COLUMN alert BOOLEAN DEFAULT FALSE NOT NULL;
ALTER TABLE events ADD COLUMN acknowledged_by VARCHAR(128);
ALTER TABLE events ADD COLUMN acknowledged_at TIMESTAMP;
CREATE INDEX events_alert_cleared ON events (alert, cleared_at);
CREATE INDEX events_raised ON events (raised_at);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
