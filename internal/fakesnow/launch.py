# fakesnow's server without the auto-created login schema (../shared/research/snowflake-feasibility.md, item 4):
# the stock server creates the login database and schema on connect, so dbt would never send its
# `create schema if not exists`. Started by fakesnow.go: python launch.py PORT.
import sys

import uvicorn
import fakesnow.server as s
from fakesnow.instance import FakeSnow

s.shared_fs = FakeSnow(create_database_on_connect=True, create_schema_on_connect=False)
uvicorn.run(s.app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
