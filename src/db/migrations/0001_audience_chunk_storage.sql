-- A 100-recipient audience chunk (~6 KB) stays inline in its heap tuple instead of being
-- compressed and moved to TOAST at the default 2 KB threshold; oversized chunks go out of line
-- uncompressed. Both keep the import close to the speed of a plain COPY.
ALTER TABLE "audience_chunks" SET (toast_tuple_target = 8160);
--> statement-breakpoint
ALTER TABLE "audience_chunks" ALTER COLUMN "emails" SET STORAGE EXTERNAL;
--> statement-breakpoint
ALTER TABLE "audience_chunks" ALTER COLUMN "fields" SET STORAGE EXTERNAL;
