"""The aiohttp side of spaprov: request handling around the pure cores."""
