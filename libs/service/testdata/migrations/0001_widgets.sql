-- Test-only migration used by libs/service tests.
CREATE TABLE widgets (id bigint PRIMARY KEY, name text NOT NULL);
