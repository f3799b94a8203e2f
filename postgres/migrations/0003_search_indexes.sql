-- Indexes for the SQL form of the facility search (postgres/search.go).
-- Public search is served from memory; these keep the SQL twin (benchmarks,
-- tools, a fallback) and the follower's reloads honest and fast.

-- Area first: a prefecture, often narrowed by type.
CREATE INDEX facilities_pref_type ON facilities (pref_code, type);
-- A municipality (or the wards of a designated city, as = ANY).
CREATE INDEX facilities_muni ON facilities (muni_code);
-- Radius searches: the bounding box of the circle, then the exact distance.
CREATE INDEX facilities_point ON facilities USING gist (point(lng, lat));
-- Nationwide searches by type.
CREATE INDEX facilities_type ON facilities (type);
