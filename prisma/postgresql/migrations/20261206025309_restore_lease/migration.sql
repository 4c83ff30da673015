-- AlterTable
ALTER TABLE "RestoreJob" ADD COLUMN     "commitRecord" TEXT,
ADD COLUMN     "instance" TEXT;

-- CreateTable
CREATE TABLE "RestoreLease" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "holder" TEXT NOT NULL,
    "jobId" TEXT NOT NULL,
    "acquiredAt" TIMESTAMP(3) NOT NULL,
    "heartbeatAt" TIMESTAMP(3) NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "RestoreLease_pkey" PRIMARY KEY ("id")
);
