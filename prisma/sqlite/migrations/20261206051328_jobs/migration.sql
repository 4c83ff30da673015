-- AlterTable
ALTER TABLE "BackupRun" ADD COLUMN "actor" TEXT;
ALTER TABLE "BackupRun" ADD COLUMN "encrypted" BOOLEAN;
ALTER TABLE "BackupRun" ADD COLUMN "includesMedia" BOOLEAN;
ALTER TABLE "BackupRun" ADD COLUMN "instance" TEXT;
ALTER TABLE "BackupRun" ADD COLUMN "requestedAt" DATETIME;

-- AlterTable
ALTER TABLE "RestoreJob" ADD COLUMN "actor" TEXT;
ALTER TABLE "RestoreJob" ADD COLUMN "sizeBytes" BIGINT;
