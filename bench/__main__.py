"""`python -m bench`: run every benchmark in turn."""

import asyncio

from bench import api_bench, media_bench, notify_bench, sync_bench


async def main() -> None:
    await api_bench.main()
    print()
    await sync_bench.main()
    print()
    media_bench.main()  # synchronous and CPU-bound: nothing else runs on the loop meanwhile
    print()
    await notify_bench.main()


if __name__ == "__main__":
    asyncio.run(main())
