package web

import "sync"

// pageCache keeps rendered public pages for as long as the facility index
// and the date (pages say "3日前に確認") stay the same. Area pages and
// shared links repeat a lot; a hit costs a map lookup instead of a search
// and a render. Any change to the catalog empties it.
type pageCache struct {
	mu      sync.Mutex
	version uint64
	day     string
	entries map[string][]byte
	bytes   int
	max     int
}

func newPageCache(maxBytes int) *pageCache {
	return &pageCache{entries: map[string][]byte{}, max: maxBytes}
}

func (c *pageCache) get(key string, version uint64, day string) ([]byte, bool) {
	if c.max <= 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if version != c.version || day != c.day {
		return nil, false
	}
	b, ok := c.entries[key]
	return b, ok
}

func (c *pageCache) put(key string, version uint64, day string, body []byte) {
	if c.max <= 0 || len(body) > c.max/8 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if version < c.version {
		return
	}
	if version != c.version || day != c.day || c.bytes+len(body) > c.max {
		clear(c.entries)
		c.version, c.day, c.bytes = version, day, 0
	}
	if _, ok := c.entries[key]; !ok {
		c.entries[key] = body
		c.bytes += len(body)
	}
}
