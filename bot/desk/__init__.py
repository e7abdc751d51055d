"""The supervisor's web desk: server-rendered pages under ``/desk/`` of the bot's own aiohttp
server (``desk_application``)."""

from bot.desk.app import desk_application

__all__ = ["desk_application"]
