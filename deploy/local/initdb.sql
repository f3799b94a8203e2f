-- Local equivalent of the runbook's RDS bootstrap (docs/runbook.md,
-- "Database roles"): a read-only login for Metabase's questions and
-- Metabase's own application database. The application's migrations own
-- the reporting views and GRANT SELECT on them to carematch_readonly.
CREATE ROLE carematch_readonly LOGIN PASSWORD 'readonly';
CREATE ROLE metabase LOGIN PASSWORD 'metabase';
CREATE DATABASE metabase OWNER metabase;
GRANT CONNECT ON DATABASE carematch TO carematch_readonly;
