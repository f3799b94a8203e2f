-- Local equivalent of the runbook's RDS bootstrap (docs/runbook.md,
-- "Database roles"): the application's login (it owns nothing; the
-- migrations run as the owner, carematch), a read-only login for
-- Metabase's questions and Metabase's own application database. The
-- migrations grant carematch_app its table rights and carematch_readonly
-- SELECT on the reporting views.
CREATE ROLE carematch_app LOGIN PASSWORD 'app';
CREATE ROLE carematch_readonly LOGIN PASSWORD 'readonly';
CREATE ROLE metabase LOGIN PASSWORD 'metabase';
CREATE DATABASE metabase OWNER metabase;
GRANT CONNECT ON DATABASE carematch TO carematch_readonly;
