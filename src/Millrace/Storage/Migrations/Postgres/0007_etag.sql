-- On an S3 lake a landing-zone file is identified by its ETag: an object written again with new bytes gets a new one.
ALTER TABLE watermark_files ADD COLUMN etag TEXT NULL;
