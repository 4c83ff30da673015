-- AlterTable
ALTER TABLE "BackupRun" ADD COLUMN     "actor" TEXT,
ADD COLUMN     "encrypted" BOOLEAN,
ADD COLUMN     "includesMedia" BOOLEAN,
ADD COLUMN     "instance" TEXT,
ADD COLUMN     "requestedAt" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "RestoreJob" ADD COLUMN     "actor" TEXT,
ADD COLUMN     "sizeBytes" BIGINT;
