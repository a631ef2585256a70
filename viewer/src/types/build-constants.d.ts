// Replaced at build time by scripts/build-viewer.ts: the hashed file name of the JPEG lossless worker.
declare const __JPEG_LOSSLESS_WORKER__: string;
