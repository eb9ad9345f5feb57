// Package sfe2e holds the Snowflake front end's end-to-end tests: fakesnow (internal/fakesnow) as the account,
// gosnowflake and real dbt-snowflake (the pinned venv) directly and through deferproxy's Snowflake listener
// (package snowflake on the defer engine), compared row for row, with the sqlText that reached the account recorded
// and asserted, since fakesnow resolves names case-insensitively. Tests only.
package sfe2e
