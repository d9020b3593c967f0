"""Media benchmark: what turning a phone photo into its display image and thumbnail costs, and
how close Fieldloop's pipeline comes to the least work that could produce them.

A 12 MP (4032x3024) photo-like JPEG is generated in memory (gradients, shapes and sensor-like
noise at quality 90, with the EXIF a phone writes: orientation 1, GPS, capture time), 3-6 MB
like a phone's. In one run, as the median of N runs each (FIELDLOOP_BENCH_PHOTOS, default 15),
taken in turn so that drift in the machine's speed hits all three alike, it measures:

1. Fieldloop: `media.pipeline.process_photo`, every check included, one decode drafted by DCT
   scaling to 2016x1512, the display JPEG (at most 2048) and the thumbnail (at most 320) made
   from it;
2. a naive Pillow pipeline, as DESIGN §6 describes it: `verify()`, reopen, decode at full size,
   `exif_transpose`, LANCZOS from full size to at most 2048 and again from full size to at most
   320, both saved;
3. the floor: the same drafted decode and one JPEG encode of the display image, nothing else;
   what any pipeline producing that display image must pay;
4. photos per second with both cores busy: `process_photo` over 40 photos in a
   `ThreadPoolExecutor(2)` (how the API runs it: Pillow releases the GIL in its codecs) and in a
   `ProcessPoolExecutor(2)`, against one thread.

Targets: Fieldloop at least 5x faster than the naive pipeline, and within 1.3x of the floor.
Every figure comes from the same run on the same photo, so the ratios hold whatever the machine;
PASS/MISS is printed, nothing fails the run. `python -m bench.media_bench` runs it alone.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import statistics
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor

from PIL import ExifTags, Image, ImageChops, ImageDraw, ImageOps, features

from media.pipeline import (
    DISPLAY_MAX,
    DISPLAY_QUALITY,
    THUMB_MAX,
    THUMB_QUALITY,
    draft_box,
    draft_scale,
    process_photo,
)

RUNS = int(os.environ.get("FIELDLOOP_BENCH_PHOTOS", "15"))
BATCH = 40  # photos per throughput measurement
WIDTH, HEIGHT = 4032, 3024
NAIVE_TARGET, FLOOR_TARGET = 5.0, 1.3


def phone_photo() -> bytes:
    """A 12 MP JPEG that compresses like a photo: smooth light, hard edges, sensor noise."""
    size = (WIDTH, HEIGHT)
    radial = Image.radial_gradient("L").resize(size)
    channels = []
    for angle, sigma in ((0, 16), (50, 17), (110, 18)):
        light = ImageChops.blend(Image.linear_gradient("L").rotate(angle).resize(size), radial, 0.4)
        channels.append(ImageChops.add(light, Image.effect_noise(size, sigma), offset=-128))
    image = Image.merge("RGB", channels)
    draw = ImageDraw.Draw(image)
    for i in range(60):
        x, y = (i * 677) % WIDTH, (i * 389) % HEIGHT
        fill = ((i * 53) % 256, (i * 97) % 256, (i * 31) % 256)
        (draw.ellipse if i % 2 else draw.rectangle)((x, y, x + 120 + i * 9, y + 90 + i * 5), fill)
    exif = Image.Exif()
    exif[ExifTags.Base.Make], exif[ExifTags.Base.Model] = "Fieldloop", "Bench Phone"
    exif[ExifTags.Base.Orientation] = 1
    exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: (35.0, 46.0, 48.0), 3: "W", 4: (78.0, 38.0, 24.0)}
    exif[ExifTags.IFD.Exif] = {ExifTags.Base.DateTimeOriginal: "2026:11:30 09:15:00"}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif)
    return buffer.getvalue()


def _fit(size: tuple[int, int], limit: int) -> tuple[int, int]:
    scale = min(1.0, limit / max(size))
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def naive(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        image.verify()
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        upright = ImageOps.exif_transpose(image)
    for limit, quality in ((DISPLAY_MAX, DISPLAY_QUALITY), (THUMB_MAX, THUMB_QUALITY)):
        derivative = upright.resize(_fit(upright.size, limit), Image.Resampling.LANCZOS)
        derivative.save(io.BytesIO(), "JPEG", quality=quality)


def floor(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", draft_box(*image.size, draft_scale(*image.size)))
        image.load()
        image.save(io.BytesIO(), "JPEG", quality=DISPLAY_QUALITY)


def fieldloop(data: bytes) -> None:
    process_photo(data)


def medians(data: bytes, pipelines: dict[str, Callable[[bytes], None]]) -> dict[str, float]:
    """Median seconds per photo of each pipeline, run in turn, after one warm-up each."""
    times: dict[str, list[float]] = {name: [] for name in pipelines}
    for run in range(RUNS + 1):
        for name, pipeline in pipelines.items():
            start = time.perf_counter()
            pipeline(data)
            if run:
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def photos_per_second(data: bytes, executor: Executor | None) -> float:
    start = time.perf_counter()
    if executor is None:
        for _ in range(BATCH):
            process_photo(data)
    else:
        for _ in executor.map(process_photo, [data] * BATCH):
            pass
    return BATCH / (time.perf_counter() - start)


def throughput(data: bytes) -> dict[str, float]:
    rates = {"one thread": photos_per_second(data, None)}
    with ThreadPoolExecutor(2) as threads:
        rates["2 threads"] = photos_per_second(data, threads)
    spawn = multiprocessing.get_context("spawn")  # no fork of a process that may hold threads
    with ProcessPoolExecutor(2, mp_context=spawn) as processes:
        list(processes.map(process_photo, [data] * 4))  # start both workers, import, warm up
        rates["2 processes"] = photos_per_second(data, processes)
    return rates


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> None:
    data = phone_photo()
    photo = process_photo(data)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"Media benchmark: a {WIDTH}x{HEIGHT} photo-like JPEG of {len(data) / 1e6:.1f} MB, "
        f"median of {RUNS} runs; {cpus} CPUs, Pillow {Image.__version__}, "
        f"libjpeg-turbo {features.version('libjpeg_turbo')}",
        flush=True,
    )
    seconds = medians(data, {"fieldloop": fieldloop, "naive": naive, "floor": floor})
    ms = {name: value * 1000 for name, value in seconds.items()}
    display, thumb = photo.display, photo.thumb
    print()
    print(f"{'per photo':44}{'median':>10}")
    print(
        f"{'Fieldloop process_photo':44}{ms['fieldloop']:>7.1f} ms   display {display.width}x"
        f"{display.height} ({len(display.data) / 1e3:.0f} KB) + thumb {thumb.width}x"
        f"{thumb.height} ({len(thumb.data) / 1e3:.0f} KB)"
    )
    print(f"{'naive Pillow (verify, full decode, 2x LANCZOS)':44}{ms['naive']:>7.1f} ms")
    print(f"{'floor (draft decode + one encode)':44}{ms['floor']:>7.1f} ms")

    faster, over_floor = ms["naive"] / ms["fieldloop"], ms["fieldloop"] / ms["floor"]
    print()
    print(f"{'ratio':44}{'value':>10}   {'target':10}")
    print(
        f"{'naive / Fieldloop':44}{faster:>9.1f}x   {'>= 5x':10}{verdict(faster >= NAIVE_TARGET)}"
    )
    print(
        f"{'Fieldloop / floor':44}{over_floor:>9.2f}x   {'<= 1.3x':10}"
        f"{verdict(over_floor <= FLOOR_TARGET)}"
    )

    rates = throughput(data)
    print()
    print(f"{f'throughput, {BATCH} photos':44}{'photos/s':>10}   vs one thread")
    for name, rate in rates.items():
        print(f"{'process_photo, ' + name:44}{rate:>10.1f}   {rate / rates['one thread']:.2f}x")


if __name__ == "__main__":
    main()
