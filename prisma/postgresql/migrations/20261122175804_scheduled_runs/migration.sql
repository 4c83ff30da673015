-- CreateTable
CREATE TABLE "ScheduledRun" (
    "slot" TIMESTAMP(3) NOT NULL,
    "instance" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "error" TEXT,
    "fileName" TEXT,
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMP(3),
    "heartbeatAt" TIMESTAMP(3),

    CONSTRAINT "ScheduledRun_pkey" PRIMARY KEY ("slot")
);
