-- The ceiling's own tables (its models are unmanaged), created by bench/run.py.
CREATE TABLE IF NOT EXISTS bench_bare_counter (id integer PRIMARY KEY, value bigint NOT NULL);
INSERT INTO bench_bare_counter SELECT i, 0 FROM generate_series(1, 10000) i ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS bench_bare_event (
    id bigserial PRIMARY KEY, counter_id integer NOT NULL, created_at timestamptz NOT NULL
);
