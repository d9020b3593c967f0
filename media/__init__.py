"""Photos: metadata now; resumable uploads and the Pillow pipeline follow (docs/media.md)."""
