-- AlterTable
ALTER TABLE "RestoreJob" ADD COLUMN "commitRecord" TEXT;
ALTER TABLE "RestoreJob" ADD COLUMN "instance" TEXT;

-- CreateTable
CREATE TABLE "RestoreLease" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT DEFAULT 1,
    "holder" TEXT NOT NULL,
    "jobId" TEXT NOT NULL,
    "acquiredAt" DATETIME NOT NULL,
    "heartbeatAt" DATETIME NOT NULL,
    "expiresAt" DATETIME NOT NULL
);
