"""Photos: tus uploads, the Pillow pipeline, content-addressed storage and serving.

See docs/media.md."""
