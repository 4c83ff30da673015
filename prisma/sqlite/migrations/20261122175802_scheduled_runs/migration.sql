-- CreateTable
CREATE TABLE "ScheduledRun" (
    "slot" DATETIME NOT NULL PRIMARY KEY,
    "instance" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "error" TEXT,
    "fileName" TEXT,
    "startedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" DATETIME,
    "heartbeatAt" DATETIME
);
