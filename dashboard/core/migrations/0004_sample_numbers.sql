-- A sample's own consecutive number ("Stichprobe Nr. 7"), not shared with the other
-- records' ids: what a team leader quotes. A counter row, not max + 1, so that a number is
-- never given twice, also after the retention purge removed the newest draws' predecessors.
CREATE TABLE IF NOT EXISTS counters (
    name VARCHAR PRIMARY KEY,
    value BIGINT NOT NULL
);
ALTER TABLE sample_draws ADD COLUMN sample_no BIGINT;
-- earlier draws are numbered in the order they were drawn
UPDATE sample_draws SET sample_no = (
    SELECT count(*) FROM sample_draws earlier WHERE earlier.draw_id <= sample_draws.draw_id
);
INSERT INTO counters (name, value) SELECT 'sample_no', count(*) FROM sample_draws;
