-- AlterTable
ALTER TABLE "RestoreLease" ADD COLUMN     "settling" BOOLEAN NOT NULL DEFAULT false;
