-- Orchestrator configuration: sites, routes, pools, IP lists, rule sets with versions and
-- tenant settings. Each object is stored as its config.proto message in JSON (`spec`), with the
-- columns constraints and lookups need next to it. The store (postgres_config_store.cc) writes
-- a tenant's changes and its new version in one transaction.

-- One global sequence: every committed change takes the next value as its tenant's version,
-- so max(version) changes whenever anything changes (replicas poll one number).
CREATE SEQUENCE config_version_seq;

CREATE TABLE config_versions (
  tenant_id  text PRIMARY KEY,
  version    bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX config_versions_by_version ON config_versions (version);

CREATE TABLE pools (
  tenant_id  text NOT NULL,
  pool_id    text NOT NULL,
  name       text NOT NULL,
  spec       jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, pool_id),
  UNIQUE (tenant_id, name)
);

CREATE TABLE sites (
  tenant_id  text NOT NULL,
  site_id    text NOT NULL,
  name       text NOT NULL,
  spec       jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, site_id),
  UNIQUE (tenant_id, name)
);

-- Hostnames are unique across all tenants: a host decides which tenant a request belongs to.
CREATE TABLE site_hostnames (
  hostname  text PRIMARY KEY,
  tenant_id text NOT NULL,
  site_id   text NOT NULL,
  FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, site_id) ON DELETE CASCADE
);

CREATE TABLE routes (
  tenant_id  text NOT NULL,
  route_id   text NOT NULL,
  site_id    text NOT NULL,
  name       text NOT NULL,
  spec       jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, route_id),
  FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, site_id)
);

CREATE TABLE ip_lists (
  tenant_id  text NOT NULL,
  ip_list_id text NOT NULL,
  name       text NOT NULL,
  purpose    text NOT NULL,
  spec       jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, ip_list_id),
  UNIQUE (tenant_id, name)
);

CREATE TABLE rule_sets (
  tenant_id          text NOT NULL,
  rule_set_id        text NOT NULL,
  name               text NOT NULL,
  shadow_sample_rate double precision NOT NULL DEFAULT 0,
  spec               jsonb NOT NULL,
  updated_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, rule_set_id),
  UNIQUE (tenant_id, name)
);

-- Versions are immutable except their state and activation time.
CREATE TABLE rule_set_versions (
  tenant_id   text NOT NULL,
  rule_set_id text NOT NULL,
  version     bigint NOT NULL,
  state       text NOT NULL,
  spec        jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, rule_set_id, version),
  FOREIGN KEY (tenant_id, rule_set_id) REFERENCES rule_sets (tenant_id, rule_set_id)
    ON DELETE CASCADE
);
CREATE INDEX rule_set_versions_live ON rule_set_versions (tenant_id)
  WHERE state IN ('RULE_SET_VERSION_STATE_ACTIVE', 'RULE_SET_VERSION_STATE_SHADOW');

CREATE TABLE tenant_settings (
  tenant_id  text PRIMARY KEY,
  spec       jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
