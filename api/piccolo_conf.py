"""Piccolo's configuration module (found through PICCOLO_CONF=api.piccolo_conf).

`DB` starts as the engine the settings name; `api.db.bind_engine` replaces it at run time so the
app, the tests and the benchmarks can each pick their database.
"""

from piccolo.conf.apps import AppRegistry

from api.db import build_engine
from api.settings import load_settings

DB = build_engine(load_settings())

APP_REGISTRY = AppRegistry(apps=["api.piccolo_app"])
