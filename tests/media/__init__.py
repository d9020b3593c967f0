"""Tests of the media package: photo storage, HTTP ranges, uploads and the image pipeline."""
