"""`python -m bench`: run every benchmark in turn."""

import asyncio

from bench import api_bench

if __name__ == "__main__":
    asyncio.run(api_bench.main())
