-- Telemetry cycles are identified by first block, length and schedule segment, not by index (indexes restart at
-- every schedule change), and carry two miner counts read at three blocks. Rows written before this migration were
-- read at one block only (MinerCommit2 end + 1, which drops miners that re-committed there) and cannot be converted
-- without re-reading the chain, so they are removed: `pnpm review ingest` re-reads them from the chain.
DELETE FROM "ChainMiner";
DELETE FROM "ChainCycle";
DELETE FROM "TelemetryCheckpoint";

DROP TABLE "ChainMiner";
DROP TABLE "ChainCycle";

CREATE TABLE "ChainCycle" (
    "netuid" INTEGER NOT NULL,
    "firstBlock" INTEGER NOT NULL,
    "length" INTEGER NOT NULL,
    "scheduleKey" TEXT NOT NULL,
    "cycle" INTEGER NOT NULL,
    "lastBlock" INTEGER NOT NULL,
    "firstBlockHash" TEXT NOT NULL,
    "lastBlockHash" TEXT NOT NULL,
    "commitReadBlock" INTEGER NOT NULL,
    "commitReadHash" TEXT NOT NULL,
    "windowEndBlock" INTEGER NOT NULL,
    "windowEndHash" TEXT NOT NULL,
    "readBlock" INTEGER NOT NULL,
    "readBlockHash" TEXT NOT NULL,
    "phases" JSONB NOT NULL,
    "schedule" JSONB NOT NULL,
    "registeredNeurons" INTEGER NOT NULL,
    "committedMiners" INTEGER NOT NULL,
    "committedDefinition" TEXT NOT NULL,
    "acceptedMiners" INTEGER NOT NULL,
    "acceptedDefinition" TEXT NOT NULL,
    "rpcRequests" INTEGER NOT NULL,
    "rpcCalls" INTEGER NOT NULL,
    "ingestedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "ChainCycle_pkey" PRIMARY KEY ("netuid", "firstBlock", "length", "scheduleKey")
);
CREATE INDEX "ChainCycle_netuid_cycle_idx" ON "ChainCycle"("netuid", "cycle");

CREATE TABLE "ChainMiner" (
    "netuid" INTEGER NOT NULL,
    "firstBlock" INTEGER NOT NULL,
    "length" INTEGER NOT NULL,
    "scheduleKey" TEXT NOT NULL,
    "hotkey" TEXT NOT NULL,
    "uid" INTEGER NOT NULL,
    "commitBlock" INTEGER,
    "commitPhase" TEXT,
    "payloadKind" TEXT NOT NULL,
    "payload" TEXT,
    "submissionBlock" INTEGER,
    "committed" BOOLEAN NOT NULL,
    "accepted" BOOLEAN NOT NULL,
    "rejection" TEXT,
    CONSTRAINT "ChainMiner_pkey" PRIMARY KEY ("netuid", "firstBlock", "length", "scheduleKey", "hotkey")
);
ALTER TABLE "ChainMiner" ADD CONSTRAINT "ChainMiner_netuid_firstBlock_length_scheduleKey_fkey" FOREIGN KEY ("netuid", "firstBlock", "length", "scheduleKey") REFERENCES "ChainCycle"("netuid", "firstBlock", "length", "scheduleKey") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "TelemetryCheckpoint" ADD COLUMN "scheduleKey" TEXT NOT NULL;
