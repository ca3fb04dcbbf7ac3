-- CreateTable
CREATE TABLE "Subnet" (
    "id" SERIAL NOT NULL,
    "netuid" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Subnet_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "ModelConfig" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "modelType" TEXT NOT NULL,
    "config" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "ModelConfig_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "Experiment" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Experiment_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "Review" (
    "id" SERIAL NOT NULL,
    "slug" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "summary" TEXT NOT NULL,
    "subnetId" INTEGER NOT NULL,
    "modelConfigId" INTEGER NOT NULL,
    "experimentId" INTEGER,
    "trainable" INTEGER NOT NULL,
    "kept" INTEGER NOT NULL,
    "cycleFrom" INTEGER,
    "cycleTo" INTEGER,
    "constants" JSONB NOT NULL,
    "source" TEXT NOT NULL,
    "publishedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "Review_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "ReportedFigure" (
    "id" SERIAL NOT NULL,
    "reviewId" INTEGER NOT NULL,
    "key" TEXT NOT NULL,
    "section" TEXT NOT NULL,
    "label" TEXT NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,
    "unit" TEXT NOT NULL,
    "cell" TEXT,
    "step" INTEGER,
    "cycle" INTEGER,
    "note" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    CONSTRAINT "ReportedFigure_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "ApiToken" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" TIMESTAMP(3),
    "revokedAt" TIMESTAMP(3),
    CONSTRAINT "ApiToken_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Subnet_netuid_key" ON "Subnet"("netuid");
CREATE UNIQUE INDEX "ModelConfig_name_key" ON "ModelConfig"("name");
CREATE UNIQUE INDEX "Experiment_name_key" ON "Experiment"("name");
CREATE UNIQUE INDEX "Review_slug_key" ON "Review"("slug");
CREATE UNIQUE INDEX "ReportedFigure_reviewId_key_key" ON "ReportedFigure"("reviewId", "key");
CREATE INDEX "ReportedFigure_reviewId_section_idx" ON "ReportedFigure"("reviewId", "section");
CREATE UNIQUE INDEX "ApiToken_hash_key" ON "ApiToken"("hash");

-- AddForeignKey
ALTER TABLE "Review" ADD CONSTRAINT "Review_subnetId_fkey" FOREIGN KEY ("subnetId") REFERENCES "Subnet"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "Review" ADD CONSTRAINT "Review_modelConfigId_fkey" FOREIGN KEY ("modelConfigId") REFERENCES "ModelConfig"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "Review" ADD CONSTRAINT "Review_experimentId_fkey" FOREIGN KEY ("experimentId") REFERENCES "Experiment"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "ReportedFigure" ADD CONSTRAINT "ReportedFigure_reviewId_fkey" FOREIGN KEY ("reviewId") REFERENCES "Review"("id") ON DELETE CASCADE ON UPDATE CASCADE;
