-- Training runs and their per-step metrics
CREATE TABLE "TrainingRun" (
    "id" TEXT NOT NULL,
    "experimentId" INTEGER,
    "cell" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "trainable" INTEGER NOT NULL,
    "kept" INTEGER NOT NULL,
    "steps" INTEGER NOT NULL,
    "spec" JSONB NOT NULL,
    "experts" JSONB,
    "hardware" JSONB,
    "gitCommit" TEXT,
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMP(3),
    "wallclockSeconds" DOUBLE PRECISION,
    "peakMemoryBytes" BIGINT,
    "tokensPerSecond" DOUBLE PRECISION,
    "mfu" DOUBLE PRECISION,
    "error" TEXT,
    CONSTRAINT "TrainingRun_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "TrainingRun_experimentId_idx" ON "TrainingRun"("experimentId");
ALTER TABLE "TrainingRun" ADD CONSTRAINT "TrainingRun_experimentId_fkey" FOREIGN KEY ("experimentId") REFERENCES "Experiment"("id") ON DELETE SET NULL ON UPDATE CASCADE;

CREATE TABLE "TrainingStep" (
    "runId" TEXT NOT NULL,
    "step" INTEGER NOT NULL,
    "loss" DOUBLE PRECISION NOT NULL,
    "gradNorm" DOUBLE PRECISION NOT NULL,
    "lr" DOUBLE PRECISION NOT NULL,
    "tokens" INTEGER NOT NULL,
    "tokensPerSecond" DOUBLE PRECISION NOT NULL,
    "stepSeconds" DOUBLE PRECISION NOT NULL,
    "memAllocatedBytes" BIGINT,
    "memPeakBytes" BIGINT,
    "recordedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "TrainingStep_pkey" PRIMARY KEY ("runId", "step")
);
ALTER TABLE "TrainingStep" ADD CONSTRAINT "TrainingStep_runId_fkey" FOREIGN KEY ("runId") REFERENCES "TrainingRun"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Evaluation results
CREATE TABLE "EvalResult" (
    "id" SERIAL NOT NULL,
    "key" TEXT NOT NULL,
    "runId" TEXT,
    "step" INTEGER,
    "model" TEXT NOT NULL,
    "task" TEXT NOT NULL,
    "metric" TEXT NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,
    "stderr" DOUBLE PRECISION,
    "n" INTEGER NOT NULL,
    "note" TEXT,
    "samplesPath" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "EvalResult_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "EvalResult_key_key" ON "EvalResult"("key");
CREATE INDEX "EvalResult_runId_idx" ON "EvalResult"("runId");
CREATE INDEX "EvalResult_model_task_idx" ON "EvalResult"("model", "task");
ALTER TABLE "EvalResult" ADD CONSTRAINT "EvalResult_runId_fkey" FOREIGN KEY ("runId") REFERENCES "TrainingRun"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Chain telemetry per cycle
CREATE TABLE "ChainCycle" (
    "netuid" INTEGER NOT NULL,
    "cycle" INTEGER NOT NULL,
    "length" INTEGER NOT NULL,
    "firstBlock" INTEGER NOT NULL,
    "lastBlock" INTEGER NOT NULL,
    "firstBlockHash" TEXT NOT NULL,
    "lastBlockHash" TEXT NOT NULL,
    "readBlock" INTEGER NOT NULL,
    "readBlockHash" TEXT NOT NULL,
    "phases" JSONB NOT NULL,
    "schedule" JSONB NOT NULL,
    "registeredNeurons" INTEGER NOT NULL,
    "activeMiners" INTEGER NOT NULL,
    "ingestedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "ChainCycle_pkey" PRIMARY KEY ("netuid", "cycle")
);

CREATE TABLE "ChainMiner" (
    "netuid" INTEGER NOT NULL,
    "cycle" INTEGER NOT NULL,
    "hotkey" TEXT NOT NULL,
    "uid" INTEGER NOT NULL,
    "commitBlock" INTEGER NOT NULL,
    "commitPhase" TEXT NOT NULL,
    "payload" TEXT,
    CONSTRAINT "ChainMiner_pkey" PRIMARY KEY ("netuid", "cycle", "hotkey")
);
ALTER TABLE "ChainMiner" ADD CONSTRAINT "ChainMiner_netuid_cycle_fkey" FOREIGN KEY ("netuid", "cycle") REFERENCES "ChainCycle"("netuid", "cycle") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "TelemetryCheckpoint" (
    "netuid" INTEGER NOT NULL,
    "lastCycle" INTEGER NOT NULL,
    "lastBlock" INTEGER NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "TelemetryCheckpoint_pkey" PRIMARY KEY ("netuid")
);
