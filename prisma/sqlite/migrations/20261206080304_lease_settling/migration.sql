-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_RestoreLease" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT DEFAULT 1,
    "holder" TEXT NOT NULL,
    "jobId" TEXT NOT NULL,
    "settling" BOOLEAN NOT NULL DEFAULT false,
    "acquiredAt" DATETIME NOT NULL,
    "heartbeatAt" DATETIME NOT NULL,
    "expiresAt" DATETIME NOT NULL
);
INSERT INTO "new_RestoreLease" ("acquiredAt", "expiresAt", "heartbeatAt", "holder", "id", "jobId") SELECT "acquiredAt", "expiresAt", "heartbeatAt", "holder", "id", "jobId" FROM "RestoreLease";
DROP TABLE "RestoreLease";
ALTER TABLE "new_RestoreLease" RENAME TO "RestoreLease";
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
