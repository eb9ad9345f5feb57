-- A source: never deferred, read from raw_data in prod and dev alike.
select event_id, customer_id, kind
from {{ source('raw', 'events') }}
