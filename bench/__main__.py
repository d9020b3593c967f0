"""`python -m bench`: run every benchmark in turn."""

import asyncio

from bench import api_bench, sync_bench


async def main() -> None:
    await api_bench.main()
    print()
    await sync_bench.main()


if __name__ == "__main__":
    asyncio.run(main())
