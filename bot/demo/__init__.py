"""``hotline demo``: the real bot against a built-in stand-in for Telegram
(``bot.fake_bot_api``), played in the browser at ``/demo/`` (``bot.demo.app``); the stage it
runs on is ``bot.demo.stage``."""
