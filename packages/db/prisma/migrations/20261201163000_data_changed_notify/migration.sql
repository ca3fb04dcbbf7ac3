-- Every committed write to a table sends NOTIFY data_changed (payload: the table's name), so an api process that
-- LISTENs keeps what it built from the data (the review's view) until a write changes it, without asking the
-- database for a version on every read. Writers need not cooperate: the CLI's ingest and import, other api replicas
-- and plain SQL all fire these triggers. Statement-level: one notification per statement (and Postgres folds equal
-- notifications of one transaction into one), delivered only if the transaction commits. A table added later needs
-- its own trigger (packages/db/test/data-changes.test.ts checks that every table has one).
CREATE FUNCTION "notify_data_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('data_changed', TG_TABLE_NAME);
  RETURN NULL;
END;
$$;

CREATE TRIGGER "Subnet_data_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "Subnet"
  FOR EACH STATEMENT EXECUTE FUNCTION "notify_data_changed"();
CREATE TRIGGER "ModelConfig_data_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "ModelConfig"
  FOR EACH STATEMENT EXECUTE FUNCTION "notify_data_changed"();
CREATE TRIGGER "Experiment_data_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "Experiment"
  FOR EACH STATEMENT EXECUTE FUNCTION "notify_data_changed"();
CREATE TRIGGER "Review_data_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "Review"
  FOR EACH STATEMENT EXECUTE FUNCTION "notify_data_changed"();
CREATE TRIGGER "ReportedFigure_data_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "ReportedFigure"
  FOR EACH STATEMENT EXECUTE FUNCTION "notify_data_changed"();
CREATE TRIGGER "ApiToken_data_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "ApiToken"
  FOR EACH STATEMENT EXECUTE FUNCTION "notify_data_changed"();
CREATE TRIGGER "TrainingRun_data_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "TrainingRun"
  FOR EACH STATEMENT EXECUTE FUNCTION "notify_data_changed"();
CREATE TRIGGER "TrainingStep_data_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "TrainingStep"
  FOR EACH STATEMENT EXECUTE FUNCTION "notify_data_changed"();
CREATE TRIGGER "EvalResult_data_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "EvalResult"
  FOR EACH STATEMENT EXECUTE FUNCTION "notify_data_changed"();
CREATE TRIGGER "ChainCycle_data_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "ChainCycle"
  FOR EACH STATEMENT EXECUTE FUNCTION "notify_data_changed"();
CREATE TRIGGER "ChainMiner_data_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "ChainMiner"
  FOR EACH STATEMENT EXECUTE FUNCTION "notify_data_changed"();
CREATE TRIGGER "TelemetryCheckpoint_data_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "TelemetryCheckpoint"
  FOR EACH STATEMENT EXECUTE FUNCTION "notify_data_changed"();
