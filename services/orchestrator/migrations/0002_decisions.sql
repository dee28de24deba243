-- The decision log: one row per recorded decision, partitioned by day (UTC). The decision-log
-- writer creates partitions ahead of time and drops those past the longest retention; rows of
-- tenants with a shorter retention are deleted by the same task. `event_id` is the Redis
-- stream entry id, so a batch written twice (at-least-once delivery) inserts nothing new.
CREATE TABLE decisions (
  decided_at          timestamptz NOT NULL,
  event_id            text NOT NULL,
  tenant_id           text NOT NULL,
  request_id          text NOT NULL,
  site_id             text NOT NULL DEFAULT '',
  route_id            text NOT NULL DEFAULT '',
  action              text NOT NULL,
  monitored_action    text NOT NULL DEFAULT '',
  status              integer NOT NULL DEFAULT 0,
  score               integer NOT NULL DEFAULT 0,
  rule_id             text NOT NULL DEFAULT '',
  rule_set_id         text NOT NULL DEFAULT '',
  rule_set_version    bigint NOT NULL DEFAULT 0,
  config_version      bigint NOT NULL DEFAULT 0,
  categories          text[] NOT NULL DEFAULT '{}',
  tags                text[] NOT NULL DEFAULT '{}',
  method              text NOT NULL DEFAULT '',
  host                text NOT NULL DEFAULT '',
  path                text NOT NULL DEFAULT '',
  client_ip           inet,
  user_agent          text NOT NULL DEFAULT '',
  upstream            text NOT NULL DEFAULT '',
  pool_id             text NOT NULL DEFAULT '',
  front_end           text NOT NULL DEFAULT '',
  latency_us          bigint NOT NULL DEFAULT 0,
  auth_risk           double precision NOT NULL DEFAULT -1,
  explanation         text NOT NULL DEFAULT '',
  findings            jsonb NOT NULL DEFAULT '[]',
  evidence_object_key text NOT NULL DEFAULT '',
  PRIMARY KEY (decided_at, event_id)
) PARTITION BY RANGE (decided_at);

CREATE INDEX decisions_by_tenant_time ON decisions (tenant_id, decided_at DESC, event_id DESC);
CREATE INDEX decisions_by_request ON decisions (tenant_id, request_id);
