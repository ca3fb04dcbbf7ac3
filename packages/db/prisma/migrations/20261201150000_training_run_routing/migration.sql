-- Each training run records the routing its training forward used: "subnet" or "renormalized" (the restricted
-- cells A and B) or "natural" (cell C), and the experts per token (top-k). Runs recorded before this migration
-- leave both null (the trainer then always renormalised over the resident experts, with the config's top-k).
ALTER TABLE "TrainingRun" ADD COLUMN "routingMode" TEXT;
ALTER TABLE "TrainingRun" ADD COLUMN "topK" INTEGER;
